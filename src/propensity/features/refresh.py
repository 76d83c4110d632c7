"""Building the online feature states (features/state.py) from the history: for the entities an
import touched, in its transaction, and for a whole tenant (`propensity features backfill`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.features.attributes import Rows
from propensity.features.builder import compute_features, load_context, us_of
from propensity.features.loading import MAX_IN_LIST
from propensity.features.policy import ColumnPolicy
from propensity.features.state import extract_states
from propensity.features.state_store import write_states
from propensity.models import Customer, Lead
from propensity.vocabulary import PredictionType

SUBJECTS = ("customer", "lead")
# Entities per step of a large build: bounds the memory of the features and states in hand.
BATCH = 5000
Progress = Callable[[str, int, int], None]


def _groups(
    session: Session, *, subject: str, ids: Iterable[int] | None
) -> dict[str | None, list[int]]:
    """The entities to rebuild, by customer kind (leads: one group)."""
    wanted = None if ids is None else sorted({int(i) for i in ids})
    if subject == "lead":
        if wanted is None:
            wanted = [int(i) for i in session.scalars(sa.select(Lead.id).order_by(Lead.id))]
        return {None: wanted}
    groups: dict[str | None, list[int]] = {}
    stmt = sa.select(Customer.id, Customer.kind).order_by(Customer.id)
    if wanted is None:
        rows = session.execute(stmt).all()
    else:
        rows = []
        for start in range(0, len(wanted), MAX_IN_LIST):
            chunk = wanted[start : start + MAX_IN_LIST]
            rows.extend(session.execute(stmt.where(Customer.id.in_(chunk))).all())
    for entity_id, kind in rows:
        groups.setdefault(str(kind), []).append(int(entity_id))
    return groups


def refresh_states(
    session: Session,
    *,
    subject: str,
    ids: Iterable[int] | None = None,
    built_at: datetime | None = None,
    progress: Progress | None = None,
) -> int:
    """Rebuild the states of these entities (all of the subject's when None) from their whole
    history, in the caller's transaction; returns how many were written."""
    built_at_us = us_of(built_at or datetime.now(UTC))
    written = 0
    for kind, entity_ids in _groups(session, subject=subject, ids=ids).items():
        ptype = PredictionType.CONVERSION if subject == "lead" else PredictionType.CHURN
        # A few entities: read only theirs; more: one scan of the kind (beats long IN lists),
        # read once for all its batches.
        few = len(entity_ids) <= MAX_IN_LIST
        context = load_context(
            session,
            prediction_type=ptype,
            kind=kind,
            ids=np.asarray(entity_ids, dtype=np.int64) if few else None,
            online=(ColumnPolicy(), True) if few else None,
        )
        for start in range(0, len(entity_ids), BATCH):
            batch = np.asarray(entity_ids[start : start + BATCH], dtype=np.int64)
            codes = context.entities.codes_of(batch)
            codes = codes[codes >= 0]
            # Computing the features at the build time makes the streams every feature asks
            # for; those are what the state keeps.
            rows = Rows(code=codes, t=np.full(len(codes), built_at_us, dtype=np.int64))
            compute_features(context, rows, point_in_time=True, policy=ColumnPolicy())
            history = context.history
            states = extract_states(
                streams=context.streams,
                health=(history.stream, history.scores) if history is not None else None,
                codes=codes,
                built_at_us=built_at_us,
            )
            write_states(
                session,
                subject=subject,
                states=list(zip(context.entities.ids[codes].tolist(), states, strict=True)),
            )
            written += len(states)
            if progress is not None:
                done = min(start + BATCH, len(entity_ids))
                progress(f"{subject}s" if kind is None else f"{kind}s", done, len(entity_ids))
    return written
