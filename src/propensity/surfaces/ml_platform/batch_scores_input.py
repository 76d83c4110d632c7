"""The lead id lists of batch-score and predict/conversion: ids as sent (schemas.LeadIds),
duplicates dropped, bounded by the tenant's `scoring.maxBatchSize`."""

from __future__ import annotations

from collections.abc import Sequence

from propensity.errors import InvalidInput


def bounded_lead_ids(value: Sequence[int], *, max_size: int) -> list[int]:
    """The ids, duplicates dropped (first kept), 1..max_size of them."""
    ids = list(dict.fromkeys(value))
    if len(ids) > max_size:
        raise InvalidInput(
            f"Too many leads: {len(ids)} given, at most {max_size} per request "
            "(scoring.maxBatchSize of the ML configuration)",
            code="BATCH_TOO_LARGE",
            details={"field": "leadIds", "maxBatchSize": max_size, "received": len(ids)},
        )
    return ids
