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
- keyFactors: the stored CONVERSION prediction's decision factors, which reuse the score
  cache rules of `GET /leads/{id}/score` (scores_service.py).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends
from sqlalchemy.orm import Session

from propensity.db import utcnow
from propensity.deps import AppSettings, TenantSession, Viewer
from propensity.errors import InvalidInput, NotFound
from propensity.mlconfig import MlConfig, load_ml_config
from propensity.models import Lead, ModelVersion, Prediction, PredictionStatus
from propensity.predictions.service import score_and_record
from propensity.settings import Settings
from propensity.surfaces.lead_serving import serving_model_ids
from propensity.surfaces.ml_platform.batch_scores_input import body_object, parse_lead_ids
from propensity.surfaces.ml_platform.common import limited, ok
from propensity.surfaces.ml_platform.conversion_timing import band, parse_timeframe, timings
from propensity.surfaces.ml_platform.scores_service import (
    check_timeout,
    model_label,
    resolve_model,
)
from propensity.timefmt import iso_z

router = APIRouter()


def conversion_predictions(
    session: Session,
    *,
    lead_ids: list[int],
    version: ModelVersion,
    config: MlConfig,
    settings: Settings,
    now: datetime,
) -> dict[int, Prediction]:
    """Each lead's CONVERSION prediction by the model serving it (`version`, or during a
    champion/challenger deployment the challenger for its leads): a cached one (score cache
    rules, with its explanation) or a fresh one, all missing leads scored in one run."""
    found: dict[int, Prediction] = {}
    serving = serving_model_ids(
        session, model_id=version.id, prediction_type="CONVERSION", lead_ids=lead_ids
    )
    caching = config.scoring.caching
    if caching.enabled and caching.ttl > 0:
        rows = session.scalars(
            sa.select(Prediction)
            .where(
                Prediction.lead_id.in_(lead_ids),
                Prediction.prediction_type == "CONVERSION",
                Prediction.model_version_id.in_(set(serving.values())),
                Prediction.status == PredictionStatus.ACTIVE.value,
                Prediction.valid_until > now,
                Prediction.predicted_at >= now - timedelta(seconds=caching.ttl),
            )
            .order_by(Prediction.predicted_at.desc(), Prediction.id.desc())
        )
        for row in rows:
            lead = row.lead_id
            usable = lead is not None and row.model_version_id == serving.get(lead)
            if usable and (row.contributions or {}).get("features"):
                found.setdefault(int(lead or 0), row)
    missing = [i for i in lead_ids if i not in found]
    if missing:
        started = time.perf_counter()
        score_and_record(
            session,
            prediction_type="CONVERSION",
            entity_ids=missing,
            as_of=now,
            settings=settings,
        )
        check_timeout(
            elapsed_ms=(time.perf_counter() - started) * 1000,
            timeout_ms=config.scoring.timeout,
            model_id=version.id,
        )
        fresh = session.scalars(
            sa.select(Prediction).where(
                Prediction.lead_id.in_(missing),
                Prediction.prediction_type == "CONVERSION",
                Prediction.model_version_id.in_(set(serving.values())),
                Prediction.predicted_at == now,
            )
        )
        for row in fresh:
            if row.lead_id is not None:
                found[row.lead_id] = row
    return found


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
    body: Annotated[Any, Body()] = None,
) -> dict[str, Any]:
    fields = body_object(body)
    config = load_ml_config(session, tenant_id=principal.tenant_id)
    lead_ids = parse_lead_ids(fields.get("leadIds"), max_size=config.scoring.maxBatchSize)
    days = parse_timeframe(fields.get("timeframe"))
    include_factors = fields.get("includeFactors", False)
    if not isinstance(include_factors, bool):
        raise InvalidInput(
            "includeFactors must be true or false",
            code="VALIDATION_ERROR",
            details={"field": "includeFactors"},
        )
    leads = {
        lead.id: lead for lead in session.scalars(sa.select(Lead).where(Lead.id.in_(lead_ids)))
    }
    missing = [i for i in lead_ids if i not in leads]
    if missing:
        raise NotFound(
            f"{len(missing)} lead(s) not found",
            code="LEAD_NOT_FOUND",
            details={"leadIds": missing[:50]},
        )
    version = resolve_model(session, None)
    now = utcnow()
    stored = conversion_predictions(
        session, lead_ids=lead_ids, version=version, config=config, settings=settings, now=now
    )
    timed = timings(session, lead_ids=lead_ids, days=days, now=now)
    session.commit()
    ttc_version, per_lead = timed if timed is not None else (None, {})
    predictions = []
    for lead_id in lead_ids:
        prediction = stored.get(lead_id)
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
        if include_factors:
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
