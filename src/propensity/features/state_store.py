"""Reading and writing the online feature states (features/state.py) of a tenant's entities."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import tenant_matches
from propensity.db_read import tenant_read
from propensity.features.loading import MAX_IN_LIST, tenant_of
from propensity.features.state import EntityState, StateMiss
from propensity.features.state_codec import StateColumns, decode_many, encode
from propensity.features.windows import IntArray
from propensity.models import FeatureState

# Up to this many entities, their states are read by IN lists of MAX_IN_LIST; above it one
# scan of the subject's states is faster.
MAX_LISTED = 10 * MAX_IN_LIST

_COLUMNS = (FeatureState.entity_id, FeatureState.built_at_us, FeatureState.payload)
_SUBJECT = FeatureState.subject == sa.bindparam("subject", type_=sa.String)
_LISTED = sa.select(*_COLUMNS).where(
    tenant_matches(FeatureState.tenant_id),
    _SUBJECT,
    FeatureState.entity_id.in_(sa.bindparam("ids", expanding=True)),
)
_ALL = sa.select(*_COLUMNS).where(tenant_matches(FeatureState.tenant_id), _SUBJECT)


def load_states(
    session: Session,
    *,
    subject: str,
    ids: Sequence[int] | IntArray,
    as_of_us: int,
    codes: Sequence[int] | IntArray | None = None,
) -> StateColumns | None:
    """The states of all `ids` (as entity `codes`, by default their positions) when every one
    has a state built at or before `as_of_us` (the only times it answers exactly); None
    otherwise (the caller reads the history)."""
    wanted = [int(i) for i in ids]
    if not wanted or len(set(wanted)) != len(wanted):
        return None
    code_of = dict(
        zip(wanted, range(len(wanted)) if codes is None else [int(c) for c in codes], strict=True)
    )
    if len(wanted) <= MAX_LISTED:
        found = [
            tenant_read(
                session, _LISTED, {"subject": subject, "ids": wanted[start : start + MAX_IN_LIST]}
            ).columns()
            for start in range(0, len(wanted), MAX_IN_LIST)
        ]
        entity_ids = [i for part in found for i in part[0]]
        built_at = [t for part in found for t in part[1]]
        payloads = [b for part in found for b in part[2]]
    else:
        every = tenant_read(session, _ALL, {"subject": subject}).columns()
        kept = [k for k, i in enumerate(every[0]) if i in code_of]
        entity_ids = [every[0][k] for k in kept]
        built_at = [every[1][k] for k in kept]
        payloads = [every[2][k] for k in kept]
    if len(entity_ids) != len(wanted):
        return None
    built = np.fromiter(built_at, dtype=np.int64, count=len(built_at))
    if len(built) and int(built.max()) > as_of_us:
        return None
    try:
        return decode_many(
            (code_of[int(entity_id)], int(built_at_us), bytes(payload))
            for entity_id, built_at_us, payload in zip(entity_ids, built_at, payloads, strict=True)
        )
    except StateMiss:
        return None


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), MAX_IN_LIST):
        yield [int(i) for i in ids[start : start + MAX_IN_LIST]]


def write_states(
    session: Session, *, subject: str, states: Sequence[tuple[int, EntityState]]
) -> None:
    """Replace the states of these entities (in the caller's transaction)."""
    tenant = tenant_of(session)
    ids = [entity_id for entity_id, _ in states]
    drop_states(session, subject=subject, ids=ids)
    rows = [
        {
            "tenant_id": tenant,
            "subject": subject,
            "entity_id": int(entity_id),
            "built_at_us": int(state.built_at_us),
            "payload": encode(state),
        }
        for entity_id, state in states
    ]
    for start in range(0, len(rows), MAX_IN_LIST):
        session.execute(sa.insert(FeatureState), rows[start : start + MAX_IN_LIST])


def drop_states(session: Session, *, subject: str, ids: Sequence[int]) -> None:
    tenant = tenant_of(session)
    for chunk in _chunks(ids):
        session.execute(
            sa.delete(FeatureState).where(
                FeatureState.tenant_id == tenant,
                FeatureState.subject == subject,
                FeatureState.entity_id.in_(chunk),
            )
        )
