"""Account-level endpoints of spec/customer-success-ml.md; the portfolio ones are in
portfolio_router.py, included below (`/portfolio/...` never collides with `/{id}/ml/...`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from propensity.ctas import candidates
from propensity.db import utcnow
from propensity.errors import InvalidInput, NotFound
from propensity.predictions.history import customer_predictions
from propensity.prefix_router import PrefixRouter
from propensity.serving import count_answers
from propensity.serving.answers import AnswerCache, Ticket
from propensity.surfaces.customer_success import (
    accounts,
    llm_text,
    payloads,
    portfolio_router,
    quotas,
)
from propensity.surfaces.customer_success.context import CsContext, ReadContext, WriteContext
from propensity.surfaces.customer_success.ctas import outcome_json
from propensity.surfaces.responses import json_response
from propensity.vocabulary import ACCOUNT_TYPES, PredictionType

router = PrefixRouter(prefix="/api/crm/accounts", tags=["customer-success"])
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
    prediction_type: PredictionType,
    force: bool,
    now: datetime,
) -> tuple[dict[str, Any], datetime | None]:
    """The body, and until when it may be kept and served again (None: it may not)."""
    session = ctx.session
    account = accounts.get_account(session, raw_id)
    served = accounts.serve_account(
        session,
        account=account,
        prediction_type=prediction_type,
        force=force,
        settings=ctx.settings,
        now=now,
        spend=lambda _fresh: quotas.spend(request, ctx, quotas.PREDICT, response),
    )
    # Accounts are always served by a trained model (serving raised 503 otherwise).
    assert served.model is not None
    data = payloads.prediction_data(
        session,
        served.prediction,
        version=served.model,
        account=account,
        settings=ctx.settings,
        now=now,
    )
    # After the prediction is committed: no write transaction waits on the LLM's answer.
    settled = llm_text.word_account_answer(
        session, data, prediction=served.prediction, settings=ctx.settings, now=now
    )
    body: dict[str, Any] = {"data": data}
    if served.cached:
        body["cached"] = True
    keep = served.cached and settled
    return body, served.prediction.valid_until if keep else None


# These three return their response themselves: FastAPI would otherwise validate and
# re-encode the (already plain) dict, in the thread pool, on the hottest paths. They are
# `async` so that an answer kept in this process (serving/answers.py) is served without a
# thread hop; anything else runs in the thread pool.
@router.post("/{account_id}/ml/predict", response_model=None)
async def predict(
    account_id: str, body: PredictRequest, request: Request, response: Response, ctx: ReadContext
) -> Response:
    return await _read(
        request,
        response,
        ctx,
        account_id=account_id,
        prediction_type=accounts.parse_prediction_type(body.predictionType),
        force=body.options.forceRefresh,
    )


async def _read(
    request: Request,
    response: Response,
    ctx: ReadContext,
    *,
    account_id: str,
    prediction_type: PredictionType,
    force: bool | None = None,
) -> Response:
    """The account's answer of the type. The GET forms (`force` None) never rescore and
    always say whether the answer was `cached`; predict says so only when it was. A stored
    answer reads the same on both, so they share what is kept."""
    answers: AnswerCache = request.app.state.answers
    ticket = answers.ticket(tenant_id=ctx.tenant_id, key=(prediction_type.value, account_id))
    now = utcnow()
    if not force and (kept := answers.get(ticket, now=now)) is not None:
        # Counted as what it is: the stored answer, served again.
        count_answers(prediction_type, source="model", served="cached")
        return Response(kept, media_type="application/json")
    return await run_in_threadpool(
        _answer,
        request,
        response,
        ctx,
        account_id=account_id,
        prediction_type=prediction_type,
        force=force,
        answers=answers,
        ticket=ticket,
        now=now,
    )


def _answer(
    request: Request,
    response: Response,
    ctx: ReadContext,
    *,
    account_id: str,
    prediction_type: PredictionType,
    force: bool | None,
    answers: AnswerCache,
    ticket: Ticket,
    now: datetime,
) -> JSONResponse:
    body, keep_until = _serve(
        request,
        response,
        ctx,
        raw_id=account_id,
        prediction_type=prediction_type,
        force=bool(force),
        now=now,
    )
    if force is None:
        body.setdefault("cached", False)
    out = json_response(body, carried=response)
    if keep_until is not None:
        answers.put(ticket, body=bytes(out.body), valid_until=keep_until, now=now)
    return out


@router.get("/{account_id}/ml/churn-risk", response_model=None)
async def churn_risk(
    account_id: str, request: Request, response: Response, ctx: ReadContext
) -> Response:
    return await _read(
        request, response, ctx, account_id=account_id, prediction_type=PredictionType.CHURN
    )


@router.get("/{account_id}/ml/health-insights", response_model=None)
async def health_insights(
    account_id: str, request: Request, response: Response, ctx: ReadContext
) -> Response:
    return await _read(
        request,
        response,
        ctx,
        account_id=account_id,
        prediction_type=PredictionType.HEALTH_TREND,
    )


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
    account = accounts.get_account(ctx.session, account_id)
    types = ACCOUNT_TYPES if type is None else (accounts.parse_prediction_type(type),)
    rows = customer_predictions(
        ctx.session,
        customer_id=account.id,
        prediction_types=types,
        include_expired=includeExpired,
        now=utcnow(),
        limit=limit,
    )
    return {"data": [payloads.listed(p) for p in rows]}


@router.post("/{account_id}/ml/generate-cta", status_code=201)
def generate_account_cta(account_id: str, request: Request, ctx: WriteContext) -> JSONResponse:
    """A CTA from the account's current prediction (churn first, else health)."""
    session = ctx.session
    account = accounts.get_account(session, account_id)
    now = utcnow()
    source = candidates.cta_source(session, account_id=account.id, now=now)
    if source is None:
        raise NotFound(
            "No prediction found",
            code="PREDICTION_NOT_FOUND",
            details={"hint": f"Generate one first: POST /api/crm/accounts/{account.id}/ml/predict"},
        )
    quotas.spend(request, ctx, quotas.CTA)
    outcome = candidates.generate_account_cta(
        session,
        account=account,
        source=source,
        user_id=ctx.user_id,
        now=now,
        cooldown_days=ctx.settings.cta_cooldown_days,
    )
    if not outcome.was_created:
        raise InvalidInput(
            "CTA not created",
            code="CTA_NOT_CREATED",
            details={"reason": outcome.skipped_reason, "predictionId": outcome.prediction_id},
        )
    return JSONResponse({"data": outcome_json(outcome)}, status_code=201)
