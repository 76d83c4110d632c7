"""`POST /api/ml/predict/conversion`: each lead's probability of converting within
`timeframe` (e.g. "30d"), with confidence, estimated value, time-to-conversion band and, with
`includeFactors`, the decision factors of its CONVERSION prediction.

- conversionProbability: P(close within the timeframe) from the TIME_TO_CLOSE survival model
  when one is active (`modelInfo.probabilitySource` "time_to_close"); otherwise the CONVERSION
  model's calibrated probability, which is over that model's own horizon
  (`probabilitySource` "conversion", `modelInfo.horizonDays`).
- confidence: of the model that gave the probability.
- estimatedValue: the lead's stated budget (its deal value when no budget is known) x
  conversionProbability, in whole currency units; null when neither is known.
- timeToConversion: the band of the TIME_TO_CLOSE median (conversion_timing.BANDS, beyond a
  year "over 365 days"); null without that model.
- keyFactors: the decision factors of each lead's CONVERSION prediction, served as by
  `GET /leads/{id}/score` (scores.py): by the model serving the lead (the challenger for its
  leads during a deployment), from the score cache while valid, otherwise scored afresh (all
  of them in one run, whose time counts against `scoring.timeout`: 504 PREDICTION_TIMEOUT).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from propensity.crm.lookup import find_leads
from propensity.db import utcnow
from propensity.deps import AppSettings, TenantSession, Viewer
from propensity.errors import NotFound
from propensity.mlconfig import load_ml_config
from propensity.models import Lead
from propensity.predictions.close_within import close_within
from propensity.serving import serve_many, serving_models
from propensity.surfaces.ml_platform.batch_scores_input import bounded_lead_ids
from propensity.surfaces.ml_platform.common import limited, model_label, ok
from propensity.surfaces.ml_platform.conversion_timing import band, parse_timeframe
from propensity.surfaces.ml_platform.schemas import ConversionRequest
from propensity.tenancy.service import require_scorer
from propensity.timefmt import iso_z
from propensity.vocabulary import Population, PredictionType

router = APIRouter()
# The most leads one synchronous conversion request scores, whatever maxBatchSize allows.
SYNC_LEADS = 1000


def estimated_value(lead: Lead, probability: float) -> float | None:
    value = lead.budget if lead.budget is not None and lead.budget > 0 else lead.deal_value
    if value is None or value <= 0:
        return None
    return float(round(value * probability))


@router.post("/predict/conversion")
def predict_conversion(
    principal: Viewer,
    session: TenantSession,
    settings: AppSettings,
    _limit: Annotated[None, Depends(limited("scoring"))],
    body: Annotated[ConversionRequest, Body()],
) -> dict[str, Any]:
    config = load_ml_config(session, tenant_id=principal.tenant_id)
    # Answered while the client waits: larger sets go through batch-score (a job).
    lead_ids = bounded_lead_ids(
        body.lead_ids, max_size=min(config.scoring.maxBatchSize, SYNC_LEADS)
    )
    days = parse_timeframe(body.timeframe)
    leads = find_leads(session, lead_ids=lead_ids)
    missing = [i for i in lead_ids if i not in leads]
    if missing:
        raise NotFound(
            f"{len(missing)} lead(s) not found",
            code="LEAD_NOT_FOUND",
            details={"leadIds": missing[:50]},
        )
    version = serving_models(
        session, prediction_type=PredictionType.CONVERSION, population=Population.LEAD.value
    ).active
    now = utcnow()
    caching = config.scoring.caching
    served = serve_many(
        session,
        prediction_type=PredictionType.CONVERSION,
        population=Population.LEAD.value,
        entity_ids=lead_ids,
        now=now,
        settings=settings,
        force=not caching.enabled or caching.ttl <= 0,
        max_age=timedelta(seconds=caching.ttl),
        run_deadline_ms=config.scoring.timeout,
        spend=lambda fresh: require_scorer(principal, fresh),
    )
    timed = close_within(session, lead_ids=lead_ids, days=days, now=now)
    ttc_version, per_lead = timed if timed is not None else (None, {})
    predictions = []
    for lead_id in lead_ids:
        answer = served.get(lead_id)  # None: the lead cannot be scored now
        prediction = None if answer is None else answer.prediction
        timing = per_lead.get(lead_id)
        probability: float | None = None
        confidence: float | None = None
        if timing is not None:
            probability, confidence = timing.within, timing.confidence
        elif prediction is not None and timed is None:
            probability = float(prediction.probability or 0.0)
            confidence = float(prediction.confidence or 0.0)
        entry: dict[str, Any] = {
            "leadId": lead_id,
            "conversionProbability": None if probability is None else round(probability, 4),
            "confidence": None if confidence is None else round(confidence, 3),
            "estimatedValue": None
            if probability is None
            else estimated_value(leads[lead_id], probability),
            "timeToConversion": None if timing is None else band(timing.median_days),
            "predictionId": None if prediction is None else prediction.id,
        }
        if body.include_factors:
            outputs = {} if prediction is None else prediction.outputs or {}
            entry["keyFactors"] = list(outputs.get("decisionFactors") or [])
        predictions.append(entry)
    accuracy = (version.metrics or {}).get("accuracy")
    model_info = {
        "version": model_label(version),
        "modelId": str(version.id),
        "accuracy": None if accuracy is None else round(float(accuracy), 4),
        "accuracyEvaluatedOn": (version.metrics or {}).get("evaluated_on"),
        "lastUpdated": iso_z(version.trained_at or version.created_at),
        "probabilitySource": "conversion" if ttc_version is None else "time_to_close",
        "timeframeDays": days,
        "horizonDays": version.horizon_days if ttc_version is None else days,
        "timeToCloseModel": None if ttc_version is None else model_label(ttc_version),
    }
    return ok({"predictions": predictions, "modelInfo": model_info})
