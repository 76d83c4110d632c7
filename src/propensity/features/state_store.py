"""Reading and writing the online feature states (features/state.py) of a tenant's entities."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import tenant_execute, tenant_matches
from propensity.features.loading import MAX_IN_LIST, tenant_of
from propensity.features.state import EntityState, StateMiss, decode, encode
from propensity.models import FeatureState

_STATES = sa.select(FeatureState.entity_id, FeatureState.built_at_us, FeatureState.payload).where(
    tenant_matches(FeatureState.tenant_id),
    FeatureState.subject == sa.bindparam("subject", type_=sa.String),
    FeatureState.entity_id.in_(sa.bindparam("ids", expanding=True)),
)


def load_states(
    session: Session, *, subject: str, ids: Sequence[int], as_of_us: int
) -> dict[int, EntityState] | None:
    """The states of all `ids` when every one has a state built at or before `as_of_us` (the
    only times it answers exactly); None otherwise (the caller reads the history)."""
    if not len(ids) or len(ids) > MAX_IN_LIST:
        return None
    rows = tenant_execute(
        session, _STATES, {"subject": subject, "ids": [int(i) for i in ids]}
    ).all()
    if len(rows) != len(set(int(i) for i in ids)):
        return None
    states: dict[int, EntityState] = {}
    for entity_id, built_at_us, payload in rows:
        if built_at_us > as_of_us:
            return None
        try:
            states[int(entity_id)] = decode(bytes(payload), built_at_us=int(built_at_us))
        except StateMiss:
            return None
    return states


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
