"""Lead-level endpoints of spec/lead-ml.md; the per-configuration ones are in
config_router.py, included below (`/leads/...` and `/predictions/...` never collide with
`/{configId}/ml/...`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Query, Request, Response
from pydantic import BaseModel, ConfigDict, StrictBool

from propensity.crm.lookup import parse_id
from propensity.db import utcnow
from propensity.errors import NotFound
from propensity.features import lead_feature_groups
from propensity.models import Prediction
from propensity.predictions.lead_accuracy import record_lead_verdict
from propensity.predictions.service import latest_predictions
from propensity.prefix_router import PrefixRouter
from propensity.serving.leads import (
    LEAD,
    LeadServer,
    quoted_time,
    serve_conversion,
    serve_score,
    serve_time,
    times_to_close,
)
from propensity.surfaces.lead_ml import llm_text, params, payloads, quotas
from propensity.surfaces.lead_ml.config_router import router as config_router
from propensity.surfaces.lead_ml.context import ReadContext, WriteContext
from propensity.vocabulary import PredictionType

router = PrefixRouter(prefix="/api/lead-scoring", tags=["lead-ml"])


class PredictBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    forceRefresh: bool = False  # noqa: N815 - the document's field names
    ruleBasedOnly: bool = False  # noqa: N815
    includeExplanation: bool = True  # noqa: N815


class RefreshBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    forceRefresh: bool = False  # noqa: N815


class ValidateBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    wasAccurate: StrictBool  # noqa: N815


@router.post("/leads/{lead_id}/ml/predict")
def predict(
    lead_id: str,
    request: Request,
    response: Response,
    ctx: ReadContext,
    body: PredictBody | None = None,
) -> dict[str, Any]:
    """CONVERSION probability, with the days to close from the TIME_TO_CLOSE model when one
    is active. `ruleBasedOnly` answers from the documented rule-based scorer instead."""
    options = body or PredictBody()
    session, now = ctx.session, utcnow()
    lead = params.get_lead(session, lead_id)
    with params.rules_offered():
        served = serve_conversion(
            session,
            lead=lead,
            now=now,
            settings=ctx.settings,
            force=options.forceRefresh,
            rule_based=options.ruleBasedOnly,
            spend=lambda count: quotas.spend(request, ctx, count=count, response=response),
        )
    times = times_to_close(session, lead_ids=[lead.id], now=now, settings=ctx.settings)
    data = payloads.conversion(
        served.prediction,
        time_to_close=times.get(lead.id),
        settings=ctx.settings,
        explain=options.includeExplanation,
    )
    # After serving committed: no write transaction waits on the LLM's answer.
    llm_text.word_conversion_answer(
        session, data, prediction=served.prediction, settings=ctx.settings, now=now
    )
    data["cached"] = served.cached
    return {"prediction": data}


@router.get("/leads/{lead_id}/ml/prediction")
def latest_prediction(
    lead_id: str,
    ctx: ReadContext,
    type: Annotated[
        str | None, Query(description="CONVERSION, TIME_TO_CLOSE, SCORE or PRIORITY")
    ] = None,
) -> dict[str, Any]:
    """The lead's newest prediction of the type (CONVERSION by default), expired or not."""
    session, now = ctx.session, utcnow()
    prediction_type = params.parse_type(type)
    lead = params.get_lead(session, lead_id)
    prediction = latest_predictions(
        session, population=LEAD, entity_ids=[lead.id], prediction_type=prediction_type.value
    ).get(lead.id)
    if prediction is None:
        raise NotFound(
            "No prediction found",
            code="NOT_FOUND",
            details={"leadId": lead.id, "type": prediction_type.value},
        )
    time_prediction = None
    if prediction_type is PredictionType.CONVERSION:
        time_prediction = quoted_time(session, lead_id=lead.id, now=now)
    data = payloads.any_prediction(
        prediction, settings=ctx.settings, time_prediction=time_prediction
    )
    if prediction_type is PredictionType.CONVERSION:
        llm_text.apply_stored(data, prediction=prediction, settings=ctx.settings)
    return {
        "id": prediction.id,
        "isExpired": payloads.is_expired(prediction, now),
        "prediction": data,
    }


def _answering(
    serve_one: LeadServer, shape: Callable[[Prediction], dict[str, Any]]
) -> Callable[..., dict[str, Any]]:
    """An endpoint giving a lead's answer by `serve_one`, charged to the quota only when
    fresh (predict-time and predict-score differ only in these two)."""

    def endpoint(
        lead_id: str,
        request: Request,
        response: Response,
        ctx: ReadContext,
        body: RefreshBody | None = None,
    ) -> dict[str, Any]:
        options = body or RefreshBody()
        lead = params.get_lead(ctx.session, lead_id)
        served = serve_one(
            ctx.session,
            lead=lead,
            now=utcnow(),
            settings=ctx.settings,
            force=options.forceRefresh,
            spend=lambda count: quotas.spend(request, ctx, count=count, response=response),
        )
        data = shape(served.prediction)
        data["cached"] = served.cached
        return {"prediction": data}

    return endpoint


router.post("/leads/{lead_id}/ml/predict-time", name="predict_time")(
    _answering(serve_time, payloads.time_to_close)
)
router.post("/leads/{lead_id}/ml/predict-score", name="predict_score")(
    _answering(serve_score, payloads.score)
)


@router.get("/leads/{lead_id}/ml/features")
def features(lead_id: str, ctx: ReadContext) -> dict[str, Any]:
    lead = params.get_lead(ctx.session, lead_id)
    return {"features": lead_feature_groups(ctx.session, lead_id=lead.id, as_of=utcnow())}


@router.post("/predictions/{prediction_id}/validate")
def validate(prediction_id: str, body: ValidateBody, ctx: WriteContext) -> dict[str, Any]:
    """Records a person's verdict on a lead prediction (it overrides an automatic one)."""
    key = parse_id(prediction_id)
    recorded = key is not None and record_lead_verdict(
        ctx.session, prediction_id=key, was_accurate=body.wasAccurate, now=utcnow()
    )
    if not recorded:
        raise NotFound(
            "Prediction not found", code="NOT_FOUND", details={"predictionId": prediction_id}
        )
    return {"success": True}


router.include_router(config_router)
