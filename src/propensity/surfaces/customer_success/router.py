"""Account-level endpoints of spec/customer-success-ml.md; the portfolio ones are in
portfolio_router.py, included below (`/portfolio/...` never collides with `/{id}/ml/...`)."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from propensity.ctas.service import generate_cta
from propensity.db import utcnow
from propensity.errors import InvalidInput, NotFound
from propensity.models import ModelVersion, Prediction, PredictionStatus
from propensity.surfaces.customer_success import (
    accounts,
    llm_text,
    payloads,
    portfolio_router,
    quotas,
)
from propensity.surfaces.customer_success.context import CsContext, ReadContext, WriteContext
from propensity.surfaces.customer_success.ctas import outcome_json

router = APIRouter(prefix="/api/crm/accounts", tags=["customer-success"])
router.include_router(portfolio_router.router)
MAX_LISTED = 200


class PredictOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    forceRefresh: bool = False  # noqa: N815 - the document's field name


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    predictionType: Any = Field(default=None, description="CHURN or HEALTH_TREND")  # noqa: N815
    options: PredictOptions = Field(default_factory=PredictOptions)


def _serve(
    request: Request,
    response: Response,
    ctx: CsContext,
    *,
    raw_id: str,
    prediction_type: str,
    force: bool,
) -> dict[str, Any]:
    session = ctx.session
    now = utcnow()
    hit = None
    if not force:
        hit = accounts.cached_answer(
            session, raw_id=raw_id, prediction_type=prediction_type, now=now
        )
    if hit is not None:
        account, prediction, version = hit
        cached = True
    else:
        account = accounts.get_account(session, raw_id)
        prediction, version, cached = accounts.predict_account(
            session,
            account=account,
            prediction_type=prediction_type,
            force=force,
            settings=ctx.settings,
            now=now,
            before_generate=lambda: quotas.spend(request, ctx, quotas.PREDICT, response),
        )
    data = payloads.prediction_data(
        session, prediction, version=version, account=account, settings=ctx.settings, now=now
    )
    # After the prediction is committed: no write transaction waits on the LLM's answer.
    llm_text.word_account_answer(
        session, data, prediction=prediction, settings=ctx.settings, now=now
    )
    body: dict[str, Any] = {"data": data}
    if cached:
        body["cached"] = True
    return body


# These three return a JSONResponse themselves: FastAPI would otherwise validate and
# re-encode the (already plain) dict, in the thread pool, on the hottest paths.
@router.post("/{account_id}/ml/predict", response_model=None)
def predict(
    account_id: str, body: PredictRequest, request: Request, response: Response, ctx: ReadContext
) -> JSONResponse:
    prediction_type = accounts.parse_prediction_type(body.predictionType)
    served = _serve(
        request,
        response,
        ctx,
        raw_id=account_id,
        prediction_type=prediction_type,
        force=body.options.forceRefresh,
    )
    return _json(served, response)


@router.get("/{account_id}/ml/churn-risk", response_model=None)
def churn_risk(
    account_id: str, request: Request, response: Response, ctx: ReadContext
) -> JSONResponse:
    served = _serve(request, response, ctx, raw_id=account_id, prediction_type="CHURN", force=False)
    served.setdefault("cached", False)
    return _json(served, response)


@router.get("/{account_id}/ml/health-insights", response_model=None)
def health_insights(
    account_id: str, request: Request, response: Response, ctx: ReadContext
) -> JSONResponse:
    served = _serve(
        request, response, ctx, raw_id=account_id, prediction_type="HEALTH_TREND", force=False
    )
    served.setdefault("cached", False)
    return _json(served, response)


def _json(body: dict[str, Any], response: Response) -> JSONResponse:
    """The body, with the headers set on `response` (the quota's remaining count)."""
    out = JSONResponse(body)
    for name, value in response.headers.items():
        if name.lower().startswith("x-ratelimit"):
            out.headers[name] = value
    return out


@router.get("/{account_id}/ml/predictions")
def list_predictions(
    account_id: str,
    ctx: ReadContext,
    type: Annotated[str | None, Query(description="CHURN or HEALTH_TREND")] = None,
    includeExpired: Annotated[bool, Query()] = False,  # noqa: N803 - the document's name
    limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = 50,
) -> dict[str, Any]:
    """Newest first. Without includeExpired only the predictions in force now (ACTIVE and
    inside their validity); with it, every prediction kept for the account, superseded and
    expired ones included, with their validation outcome."""
    session = ctx.session
    account = accounts.get_account(session, account_id)
    query = sa.select(Prediction).where(Prediction.customer_id == account.id)
    if type is not None:
        query = query.where(Prediction.prediction_type == accounts.parse_prediction_type(type))
    else:
        query = query.where(Prediction.prediction_type.in_(accounts.ACCOUNT_TYPES))
    if not includeExpired:
        query = query.where(
            Prediction.status == PredictionStatus.ACTIVE.value, Prediction.valid_until > utcnow()
        )
    rows = session.scalars(
        query.order_by(Prediction.predicted_at.desc(), Prediction.id.desc()).limit(limit)
    ).all()
    return {"data": [payloads.listed(p) for p in rows]}


@router.post("/{account_id}/ml/generate-cta", status_code=201)
def generate_account_cta(account_id: str, request: Request, ctx: WriteContext) -> JSONResponse:
    """A CTA from the account's latest prediction (churn first, else health)."""
    session = ctx.session
    account = accounts.get_account(session, account_id)
    now = utcnow()
    prediction = accounts.latest_prediction(
        session, account_id=account.id, prediction_type="CHURN", valid_at=now
    ) or accounts.latest_prediction(
        session, account_id=account.id, prediction_type="HEALTH_TREND", valid_at=now
    )
    if prediction is None:
        raise NotFound(
            "No prediction found",
            code="PREDICTION_NOT_FOUND",
            details={"hint": f"Generate one first: POST /api/crm/accounts/{account.id}/ml/predict"},
        )
    quotas.spend(request, ctx, quotas.CTA)
    threshold = session.scalar(
        sa.select(ModelVersion.threshold).where(ModelVersion.id == prediction.model_version_id)
    )
    outcome = generate_cta(
        session,
        customer=account,
        prediction=prediction,
        threshold=threshold,
        user_id=ctx.user_id,
        now=now,
        cooldown_days=ctx.settings.cta_cooldown_days,
    )
    if not outcome.was_created:
        session.rollback()
        raise InvalidInput(
            "CTA not created",
            code="CTA_NOT_CREATED",
            details={"reason": outcome.skipped_reason, "predictionId": prediction.id},
        )
    session.commit()
    return JSONResponse({"data": outcome_json(outcome)}, status_code=201)
