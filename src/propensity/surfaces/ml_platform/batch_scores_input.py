"""Request checks shared by batch-score and predict/conversion: lead id lists bounded by the
tenant's `scoring.maxBatchSize`, and the lead ids the tenant really has."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.errors import InvalidInput
from propensity.models import Lead

# An IN list per query stays well under SQLite's bound-parameter limit.
ID_CHUNK = 5000


def body_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput(
            'Send a JSON object, e.g. {"leadIds": [1, 2, 3]}', code="VALIDATION_ERROR"
        )
    return body


def parse_lead_ids(value: Any, *, max_size: int) -> list[int]:
    """Positive integer ids, 1..max_size of them, duplicates dropped (first kept)."""
    if not isinstance(value, list) or not value:
        raise InvalidInput(
            "leadIds must be a non-empty list of lead ids",
            code="VALIDATION_ERROR",
            details={"field": "leadIds"},
        )
    bad = [v for v in value if isinstance(v, bool) or not isinstance(v, int) or v <= 0]
    if bad:
        raise InvalidInput(
            "leadIds must hold positive integer lead ids",
            code="VALIDATION_ERROR",
            details={"field": "leadIds", "invalid": bad[:10]},
        )
    ids = list(dict.fromkeys(value))
    if len(ids) > max_size:
        raise InvalidInput(
            f"Too many leads: {len(ids)} given, at most {max_size} per request "
            "(scoring.maxBatchSize of the ML configuration)",
            code="BATCH_TOO_LARGE",
            details={"field": "leadIds", "maxBatchSize": max_size, "received": len(ids)},
        )
    return ids


def known_lead_ids(session: Session, ids: Sequence[int]) -> set[int]:
    """Those of `ids` that are leads of the session's tenant."""
    found: set[int] = set()
    for start in range(0, len(ids), ID_CHUNK):
        chunk = list(ids[start : start + ID_CHUNK])
        found.update(int(i) for i in session.scalars(sa.select(Lead.id).where(Lead.id.in_(chunk))))
    return found
