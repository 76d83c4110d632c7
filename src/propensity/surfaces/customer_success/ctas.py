"""CTA results in the document's shape."""

from __future__ import annotations

from typing import Any

from propensity.ctas.service import CtaOutcome, cta_json


def outcome_json(outcome: CtaOutcome) -> dict[str, Any]:
    body: dict[str, Any] = {
        "cta": cta_json(outcome.cta) if outcome.cta is not None else None,
        "predictionId": outcome.prediction_id,
        "generationReason": outcome.generation_reason,
        "wasCreated": outcome.was_created,
    }
    if not outcome.was_created:
        body["skippedReason"] = outcome.skipped_reason
    return body
