"""`GET /api/ml/leads/{leadId}/score`: a lead's CONVERSION score (100 x the calibrated
probability), by the active model or the one named in `model`, cached per the tenant's ML
configuration (scores_service.py); `refresh=true` (beyond the document) forces a fresh one.

`predictionTime` is the measured milliseconds of this request's scoring (also stored in the
prediction's `latency_ms` for monitoring); for a cached score (`cached: true`) it is the time
the lookup took. `featureImportance` is this lead's share of |contribution| over its top
features (summing to 1); `decisionFactors` are those stored with the prediction."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from propensity.db import utcnow
from propensity.deps import AppSettings, TenantSession, Viewer
from propensity.mlconfig import load_ml_config
from propensity.models import Prediction
from propensity.surfaces.ml_platform.common import limited, ok
from propensity.surfaces.ml_platform.scores_service import get_lead, lead_score, model_label
from propensity.timefmt import iso_z

router = APIRouter()


def feature_importance(prediction: Prediction) -> dict[str, float]:
    """This lead's share of |contribution| per top feature (the stored top contributions),
    summing to 1; empty when the stored row has no explanation."""
    features = (prediction.contributions or {}).get("features") or {}
    magnitudes = {str(k): abs(float(v)) for k, v in features.items()}
    total = sum(magnitudes.values())
    if total <= 0:
        return {}
    return {k: round(v / total, 4) for k, v in sorted(magnitudes.items(), key=lambda kv: -kv[1])}


def lead_features(lead: Any) -> dict[str, Any]:
    return {
        "budget": lead.budget,
        "timeline": lead.timeline,
        "propertyType": lead.property_type,
        "location": lead.location,
    }


@router.get("/leads/{lead_id}/score")
def get_lead_score(
    lead_id: str,
    principal: Viewer,
    session: TenantSession,
    settings: AppSettings,
    _limit: Annotated[None, Depends(limited("scoring"))],
    model: Annotated[str | None, Query(description="A CONVERSION model's id or vN")] = None,
    explain: bool = False,
    refresh: Annotated[bool, Query(description="Ignore the score cache")] = False,
) -> dict[str, Any]:
    now = utcnow()
    lead = get_lead(session, lead_id)
    config = load_ml_config(session, tenant_id=principal.tenant_id)
    result = lead_score(
        session,
        lead=lead,
        requested_model=model,
        refresh=refresh,
        explain=explain,
        config=config,
        settings=settings,
        now=now,
    )
    session.commit()
    prediction = result.prediction
    data: dict[str, Any] = {
        "leadId": lead.id,
        "score": round(100 * float(prediction.probability or 0.0), 1),
        "confidence": None if prediction.confidence is None else round(prediction.confidence, 3),
        "modelVersion": model_label(result.version),
        "modelId": str(result.version.id),
        "scoredAt": iso_z(prediction.predicted_at),
        "predictionTime": round(result.elapsed_ms),
        "cached": result.cached,
        "predictionId": prediction.id,
        "features": lead_features(lead),
    }
    if explain:
        data["explanation"] = {
            "featureImportance": feature_importance(prediction),
            "decisionFactors": list((prediction.outputs or {}).get("decisionFactors") or []),
        }
    return ok(data)
