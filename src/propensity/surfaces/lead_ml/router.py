"""Lead-level endpoints of spec/lead-ml.md; the per-configuration ones are in
config_router.py, included below (`/leads/...` and `/predictions/...` never collide with
`/{configId}/ml/...`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, StrictBool

from propensity.db import utcnow
from propensity.errors import NotFound
from propensity.features import lead_feature_groups
from propensity.models import Prediction
from propensity.surfaces.lead_ml import leads, llm_text, payloads, quotas
from propensity.surfaces.lead_ml.config_router import router as config_router
from propensity.surfaces.lead_ml.context import ReadContext, WriteContext

router = APIRouter(prefix="/api/lead-scoring", tags=["lead-ml"])


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
    lead = leads.get_lead(session, lead_id)
    served = leads.conversion(
        session,
        lead=lead,
        force=options.forceRefresh,
        rule_based=options.ruleBasedOnly,
        settings=ctx.settings,
        now=now,
        before_generate=lambda: quotas.spend(request, ctx, response=response),
    )
    time_prediction = leads.time_to_close_if_available(
        session, lead=lead, settings=ctx.settings, now=now
    )
    session.commit()
    data = payloads.conversion(
        served.prediction,
        time_to_close=time_prediction,
        settings=ctx.settings,
        explain=options.includeExplanation,
    )
    # After the commit above: no write transaction waits on the LLM's answer.
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
    prediction_type = leads.parse_type(type)
    lead = leads.get_lead(session, lead_id)
    prediction = leads.latest(session, lead_id=lead.id, prediction_type=prediction_type)
    if prediction is None:
        raise NotFound(
            "No prediction found",
            code="NOT_FOUND",
            details={"leadId": lead.id, "type": prediction_type},
        )
    time_prediction = None
    if prediction_type == "CONVERSION":
        time_prediction = leads.latest(
            session, lead_id=lead.id, prediction_type="TIME_TO_CLOSE", valid_at=now
        )
    data = payloads.any_prediction(
        prediction, settings=ctx.settings, time_prediction=time_prediction
    )
    if prediction_type == "CONVERSION":
        llm_text.apply_stored(data, prediction=prediction, settings=ctx.settings)
    return {
        "id": prediction.id,
        "isExpired": payloads.is_expired(prediction, now),
        "prediction": data,
    }


@router.post("/leads/{lead_id}/ml/predict-time")
def predict_time(
    lead_id: str,
    request: Request,
    response: Response,
    ctx: ReadContext,
    body: RefreshBody | None = None,
) -> dict[str, Any]:
    options = body or RefreshBody()
    session, now = ctx.session, utcnow()
    lead = leads.get_lead(session, lead_id)
    served = leads.by_model(
        session,
        lead=lead,
        prediction_type="TIME_TO_CLOSE",
        force=options.forceRefresh,
        settings=ctx.settings,
        now=now,
        before_generate=lambda: quotas.spend(request, ctx, response=response),
    )
    session.commit()
    data = payloads.time_to_close(served.prediction)
    data["cached"] = served.cached
    return {"prediction": data}


@router.post("/leads/{lead_id}/ml/predict-score")
def predict_score(
    lead_id: str,
    request: Request,
    response: Response,
    ctx: ReadContext,
    body: RefreshBody | None = None,
) -> dict[str, Any]:
    options = body or RefreshBody()
    session, now = ctx.session, utcnow()
    lead = leads.get_lead(session, lead_id)
    served = leads.score(
        session,
        lead=lead,
        force=options.forceRefresh,
        settings=ctx.settings,
        now=now,
        before_generate=lambda: quotas.spend(request, ctx, response=response),
    )
    session.commit()
    data = payloads.score(served.prediction)
    data["cached"] = served.cached
    return {"prediction": data}


@router.get("/leads/{lead_id}/ml/features")
def features(lead_id: str, ctx: ReadContext) -> dict[str, Any]:
    lead = leads.get_lead(ctx.session, lead_id)
    return {"features": lead_feature_groups(ctx.session, lead_id=lead.id, as_of=utcnow())}


@router.post("/predictions/{prediction_id}/validate")
def validate(prediction_id: str, body: ValidateBody, ctx: WriteContext) -> dict[str, Any]:
    """Records a person's verdict on a lead prediction (it overrides an automatic one)."""
    session = ctx.session
    try:
        key = int(prediction_id)
    except ValueError:
        key = 0
    prediction = session.get(Prediction, key) if key > 0 else None
    if prediction is None or prediction.lead_id is None:
        raise NotFound(
            "Prediction not found", code="NOT_FOUND", details={"predictionId": prediction_id}
        )
    prediction.was_accurate = body.wasAccurate
    prediction.validated_at = utcnow()
    session.commit()
    return {"success": True}


router.include_router(config_router)
