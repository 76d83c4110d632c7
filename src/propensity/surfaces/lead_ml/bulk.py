"""bulk-predict: score a configuration's open leads in one batch.

Selection: the configuration's open leads by id, skipping those whose latest CONVERSION
score (100 x probability) is below minScore (never-scored leads are kept), at most `limit`.
Each lead is answered as `POST /leads/:id/ml/predict` would answer it (serving.leads: a
valid stored answer by the model serving it, or a valid rule-based one with ruleBasedOnly,
unless forceRefresh). Each lead scored afresh counts one against the tenant's rate limits,
checked before scoring: when the limits run out part-way the remaining leads get the error
"Rate limit reached" and nothing is stored for them (a lead that cannot be scored now gets
"Lead could not be scored"); when not even the first fits, the
request is refused with 429. The time to close is served with the conversion (no extra
count), and the configuration is re-ranked: every lead answered gets a PRIORITY prediction
with its rank, tier and priorityScore.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from propensity.crm.lead_configs import open_leads
from propensity.db import Session
from propensity.errors import RateLimited
from propensity.models import Lead, LeadScoringConfig
from propensity.predictions.lead_scores import lead_score
from propensity.predictions.service import latest_predictions
from propensity.serving.lead_ranking import record_priorities
from propensity.serving.leads import LEAD, serve_conversions, times_to_close
from propensity.settings import Settings
from propensity.surfaces.lead_ml import payloads
from propensity.vocabulary import PredictionType

RATE_LIMITED = "Rate limit reached; not scored"
NOT_SCORED = "Lead could not be scored"


def _select(
    session: Session, *, config: LeadScoringConfig, limit: int, min_score: float
) -> list[Lead]:
    candidates = open_leads(session, config_id=config.id)
    if min_score <= 0:
        return candidates[:limit]
    # Only a score filter needs the leads' latest predictions (their JSON is not small).
    latest = latest_predictions(
        session,
        population=LEAD,
        entity_ids=[lead.id for lead in candidates],
        prediction_type=PredictionType.CONVERSION.value,
    )
    chosen: list[Lead] = []
    for lead in candidates:
        prediction = latest.get(lead.id)
        if (
            prediction is not None
            and prediction.probability is not None
            and lead_score(float(prediction.probability)) < min_score
        ):
            continue
        chosen.append(lead)
        if len(chosen) >= limit:
            break
    return chosen


def quota(spend: Callable[[], None], refused: set[int]) -> Callable[[list[int]], list[int]]:
    """serving's `admit`: one `spend` per lead in order, up to the first the limits refuse
    (those left are added to `refused`); refused at the first lead, the whole request is
    (429)."""

    def admit(lead_ids: list[int]) -> list[int]:
        allowed: list[int] = []
        for lead_id in lead_ids:
            try:
                spend()
            except RateLimited:
                if not allowed:
                    raise
                refused.update(lead_ids[len(allowed) :])
                break
            allowed.append(lead_id)
        return allowed

    return admit


def bulk_predict(
    session: Session,
    *,
    config: LeadScoringConfig,
    limit: int,
    min_score: float,
    force: bool,
    rule_based: bool,
    settings: Settings,
    now: datetime,
    spend: Callable[[], None],
) -> dict[str, Any]:
    selected = _select(session, config=config, limit=limit, min_score=min_score)
    refused: set[int] = set()
    answers = serve_conversions(
        session,
        leads=selected,
        now=now,
        settings=settings,
        force=force,
        rule_based=rule_based,
        admit=quota(spend, refused),
    )
    answered = list(answers.served)
    times = times_to_close(session, lead_ids=answered, now=now, settings=settings)
    record_priorities(session, config_id=config.id, lead_ids=answered, now=now, settings=settings)
    results: list[dict[str, Any]] = []
    for lead in selected:
        served = answers.served.get(lead.id)
        if served is None:
            error = RATE_LIMITED if lead.id in refused else NOT_SCORED
            results.append({"leadId": lead.id, "result": None, "error": error})
            continue
        body = payloads.conversion(
            served.prediction, time_to_close=times.get(lead.id), settings=settings
        )
        body["cached"] = served.cached
        results.append({"leadId": lead.id, "result": body, "error": None})
    successful = sum(1 for r in results if r["error"] is None)
    return {
        "processed": len(results),
        "successful": successful,
        "failed": len(results) - successful,
        "scored": answers.fresh,
        "cached": answers.cached,
        "predictions": results,
    }
