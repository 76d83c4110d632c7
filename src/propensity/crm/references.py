"""Links to other rows of the same tenant: event and health subjects, lead scoring configs.

Every lookup is an ORM select, so the session's tenant filter applies: another tenant's
customer with the same external id is simply not there.
"""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.crm.errors import MAX_REPORTED_ERRORS, ErrorList, RowError
from propensity.crm.validation import Prepared
from propensity.crm.writer import existing_keys
from propensity.models import Customer, Lead, LeadScoringConfig


def resolve_subjects(
    session: Session,
    *,
    model: type[Customer] | type[Lead],
    column: str,
    prepared: Prepared,
    errors: ErrorList,
) -> list[int | None]:
    """Internal ids of the customers or leads the rows name; unknown ones are errors.

    The lookup goes through the tenant-scoped ORM, so another tenant's customer with the
    same id is simply not found.
    """
    names = prepared.values.get(column)
    if names is None:
        return [None] * len(prepared)
    found = existing_keys(
        session,
        columns=[model.external_id, model.id],
        filter_column=model.external_id,
        values=names,
    )
    ids: dict[str, int] = {external: internal for external, internal in found}
    resolved = [None if name is None else ids.get(name) for name in names]
    unknown = np.array(
        [n is not None and r is None for n, r in zip(names, resolved, strict=True)], dtype=bool
    )
    what = "customer" if model is Customer else "lead"
    found_errors = [
        RowError(
            int(prepared.rows[i]),
            column,
            f"no {what} with {column} {names[i]!r} in this tenant (import {what}s first)",
        )
        for i in np.flatnonzero(unknown)[:MAX_REPORTED_ERRORS]
    ]
    if found_errors:
        errors.extend(found_errors, total=int(unknown.sum()))
    return resolved


def config_ids(session: Session, names: list[str | None]) -> list[int | None]:
    """Ids of the named lead scoring configs, creating the ones this tenant lacks."""
    wanted = sorted({name for name in names if name is not None})
    query = sa.select(LeadScoringConfig.name, LeadScoringConfig.id).where(
        LeadScoringConfig.name.in_(wanted)
    )
    known: dict[str, int] = {name: config_id for name, config_id in session.execute(query)}
    for name in wanted:
        if name not in known:
            config = LeadScoringConfig(name=name, description="", settings={})
            session.add(config)
            session.flush()
            known[name] = config.id
    return [None if name is None else known[name] for name in names]
