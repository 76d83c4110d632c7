"""`GET /api/ml/leads/{leadId}/score`: a lead's CONVERSION score (100 x the calibrated
probability), served by propensity.serving: by the model serving the lead (the active one,
or during a champion/challenger deployment the challenger for its leads), or by the one named
in `model` (its id or vN).

Score cache (the document's "ML scores are cached"): the stored prediction is the answer while
serving's validity rule holds and it is at most `scoring.caching.ttl` seconds old, when the
tenant's ML configuration enables caching; caching disabled, a TTL of 0 or `refresh=true`
(beyond the document) makes a fresh one. An explanation asked of a row stored without one
(the batch job explains only flagged leads) is scored afresh too.

`predictionTime` is the measured milliseconds of this request's scoring (also stored in the
prediction's `latency_ms` for monitoring); for a cached score (`cached: true`) it is the time
the lookup took. Scoring slower than `scoring.timeout` is the document's 504
PREDICTION_TIMEOUT, and nothing is stored. `featureImportance` is this lead's share of
|contribution| over its top features (summing to 1); `decisionFactors` are those stored with
the prediction."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from propensity.crm.lookup import LeadFacts, find_lead_facts, parse_id
from propensity.db import Session, utcnow
from propensity.deps import AppSettings, TenantSession, Viewer
from propensity.errors import InvalidInput, NotFound
from propensity.mlconfig import load_ml_config
from propensity.models import Prediction
from propensity.serving import requested_version, serve
from propensity.settings import Settings
from propensity.surfaces.ml_platform.common import count_request, model_label, ok
from propensity.surfaces.responses import json_response
from propensity.tenancy.service import Principal, require_scorer
from propensity.timefmt import iso_z
from propensity.vocabulary import Population, PredictionType

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


def lead_features(lead: LeadFacts) -> dict[str, Any]:
    return {
        "budget": lead.budget,
        "timeline": lead.timeline,
        "propertyType": lead.property_type,
        "location": lead.location,
    }


def lead_or_404(session: Session, raw_id: str) -> LeadFacts:
    lead_id = parse_id(raw_id)
    if lead_id is None:
        raise InvalidInput(
            f"Invalid lead ID '{raw_id}': a lead ID is a positive integer",
            code="VALIDATION_ERROR",
            details={"leadId": raw_id},
        )
    lead = find_lead_facts(session, lead_id=lead_id)
    if lead is None:
        raise NotFound("Lead not found", code="LEAD_NOT_FOUND", details={"leadId": lead_id})
    return lead


@router.get("/leads/{lead_id}/score", response_model=None)
async def get_lead_score(
    lead_id: str,
    request: Request,
    response: Response,
    principal: Viewer,
    session: TenantSession,
    settings: AppSettings,
    model: Annotated[str | None, Query(description="A CONVERSION model's id or vN")] = None,
    explain: bool = False,
    refresh: Annotated[bool, Query(description="Ignore the score cache")] = False,
) -> JSONResponse:
    # One thread-pool hop for the whole answer (the limit's count, the lookup, serving and the
    # body), and the body rendered once: as a sync endpoint with a sync limit dependency and a
    # dict result, it took three hops, and the sync session dependency two more (ADR 0023).
    data = await run_in_threadpool(
        _lead_score,
        request,
        response,
        lead_id=lead_id,
        principal=principal,
        session=session,
        settings=settings,
        model=model,
        explain=explain,
        refresh=refresh,
    )
    return json_response(ok(data), carried=response)


def _lead_score(
    request: Request,
    response: Response,
    *,
    lead_id: str,
    principal: Principal,
    session: Session,
    settings: Settings,
    model: str | None,
    explain: bool,
    refresh: bool,
) -> dict[str, Any]:
    count_request(request, response, kind="scoring")
    now = utcnow()
    lead = lead_or_404(session, lead_id)
    config = load_ml_config(session, tenant_id=principal.tenant_id)
    started = time.perf_counter()
    version = (
        None
        if model is None or not model.strip()
        else requested_version(
            session,
            prediction_type=PredictionType.CONVERSION,
            population=Population.LEAD.value,
            requested=model,
        )
    )
    caching = config.scoring.caching
    served = serve(
        session,
        prediction_type=PredictionType.CONVERSION,
        population=Population.LEAD.value,
        entity_id=lead.id,
        now=now,
        settings=settings,
        force=refresh or not caching.enabled or caching.ttl <= 0,
        explained=explain,
        max_age=timedelta(seconds=caching.ttl),
        version=version,
        deadline_ms=config.scoring.timeout,
        spend=lambda fresh: require_scorer(principal, fresh),
    )
    elapsed_ms = (
        (time.perf_counter() - started) * 1000
        if served.cached or served.latency_ms is None
        else served.latency_ms
    )
    prediction = served.prediction
    assert served.model is not None  # the rule-based scorer never serves this surface
    data: dict[str, Any] = {
        "leadId": lead.id,
        "score": round(100 * float(prediction.probability or 0.0), 1),
        "confidence": None if prediction.confidence is None else round(prediction.confidence, 3),
        "modelVersion": model_label(served.model),
        "modelId": str(served.model.id),
        "scoredAt": iso_z(prediction.predicted_at),
        "predictionTime": round(elapsed_ms),
        "cached": served.cached,
        "predictionId": prediction.id,
        "features": lead_features(lead),
    }
    if explain:
        data["explanation"] = {
            "featureImportance": feature_importance(prediction),
            "decisionFactors": list((prediction.outputs or {}).get("decisionFactors") or []),
        }
    return data
