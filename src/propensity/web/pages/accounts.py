"""/accounts: the account portfolio by churn risk; /accounts/{id}: the account 360 (churn
and health over time, the drivers of the current prediction, recommendations, CTAs and their
lifecycle, prediction history, "score now").

Every number comes from the core the customer-success API uses: the current answer from
serving (the same `serve` as GET /api/crm/accounts/{id}/ml/churn-risk), risk categories from
the serving model's cut-offs, CTAs from ctas.service, history from predictions.history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse

from propensity.crm.health import health_history
from propensity.crm.lookup import find_account, parse_id
from propensity.ctas.commands import save_cta_update, save_manual_cta
from propensity.ctas.service import NEXT_STATUSES, list_ctas
from propensity.db import utcnow
from propensity.errors import PropensityError, Unavailable
from propensity.models import CtaStatus, Customer
from propensity.narratives.risk import RiskCutoffs, urgency
from propensity.narratives.scene import humanize
from propensity.portfolio.account_list import (
    RISK_CATEGORIES,
    UNSCORED,
    AccountFilters,
    account_portfolio,
    owner_of,
)
from propensity.predictions.history import customer_predictions
from propensity.predictions.waterfall import probability_waterfall
from propensity.serving.service import Served, serve
from propensity.tenancy.service import require_scorer
from propensity.vocabulary import ACCOUNT_TYPES, Population, PredictionType
from propensity.web.context import AnalystPage, CsrfForm, PageContext, PageError, ViewerPage
from propensity.web.pages.account_charts import churn_history_spec, health_spec, waterfall_spec
from propensity.web.render import pct, render

router = APIRouter(include_in_schema=False)
ACCOUNT = Population.ACCOUNT.value
PER_PAGE_CHOICES = (25, 50, 100)
RENEWAL_WINDOWS = (30, 60, 90, 180, 365)
HISTORY_LIMIT = 100
CTA_LIMIT = 100
DEFAULT_HEALTH_HORIZON = 30
# serving's Unavailable code when no model of the type is trained for accounts.
NO_MODEL = "MODEL_UNAVAILABLE"


def _int(value: str | None, default: int | None, choices: tuple[int, ...] = ()) -> int | None:
    number = parse_id(value) if value else None
    if number is None or (choices and number not in choices):
        return default
    return number


@router.get("/accounts", response_class=HTMLResponse)
def accounts_list(
    ctx: ViewerPage,
    risk: Annotated[str | None, Query()] = None,
    renewal: Annotated[str | None, Query()] = None,
    owner: Annotated[str | None, Query()] = None,
    type: Annotated[str | None, Query()] = None,
    q: Annotated[str | None, Query()] = None,
    page: Annotated[str | None, Query()] = None,
    per_page: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    risk_value = (risk or "").strip().lower() or None
    if risk_value not in (None, *RISK_CATEGORIES, UNSCORED):
        risk_value = None
    filters = AccountFilters(
        risk=risk_value,
        renewal_within_days=_int(renewal, None, RENEWAL_WINDOWS),
        owner=(owner or "").strip() or None,
        account_type=(type or "").strip().upper() or None,
        search=(q or "").strip() or None,
    )
    size = _int(per_page, PER_PAGE_CHOICES[0], PER_PAGE_CHOICES) or PER_PAGE_CHOICES[0]
    wanted_page = _int(page, 1) or 1
    portfolio = account_portfolio(
        ctx.session,
        filters=filters,
        page=wanted_page,
        per_page=size,
        settings=ctx.settings,
        now=utcnow(),
    )
    if portfolio.page > portfolio.pages:
        # Past the last page (filters changed under a bookmarked link): show the last one.
        portfolio = account_portfolio(
            ctx.session,
            filters=filters,
            page=portfolio.pages,
            per_page=size,
            settings=ctx.settings,
            now=utcnow(),
        )
    params = {
        "risk": filters.risk or "",
        "renewal": filters.renewal_within_days or "",
        "owner": filters.owner or "",
        "type": filters.account_type or "",
        "q": filters.search or "",
        "per_page": size if size != PER_PAGE_CHOICES[0] else "",
    }
    return render(
        ctx,
        "accounts/list.html",
        portfolio=portfolio,
        filters=filters,
        params=params,
        filtered=any(v for k, v in params.items() if k != "per_page"),
        risk_categories=RISK_CATEGORIES,
        renewal_windows=RENEWAL_WINDOWS,
        per_page_choices=PER_PAGE_CHOICES,
        per_page=size,
        humanize=humanize,
    )


def _account(ctx: PageContext, raw_id: str) -> Customer:
    account_id = parse_id(raw_id)
    account = None if account_id is None else find_account(ctx.session, account_id=account_id)
    if account is None:
        raise PageError(
            404,
            "There is no account with this id in your workspace. It may have been removed, "
            "or the link may belong to another workspace.",
        )
    return account


def _serve(
    ctx: PageContext, account: Customer, prediction_type: PredictionType, *, force: bool
) -> tuple[Served | None, str | None]:
    """The account's answer of this type, as the API serves it; or why there is none."""
    try:
        served = serve(
            ctx.session,
            prediction_type=prediction_type,
            population=ACCOUNT,
            entity_id=account.id,
            now=utcnow(),
            settings=ctx.settings,
            force=force,
        )
    except Unavailable as exc:
        if exc.code == NO_MODEL:
            return None, NO_MODEL
        return None, exc.message
    return served, None


@router.get("/accounts/{account_id}", response_class=HTMLResponse)
def account_page(account_id: str, ctx: ViewerPage) -> HTMLResponse:
    account = _account(ctx, account_id)
    now = utcnow()
    churn, churn_problem = _serve(ctx, account, PredictionType.CHURN, force=False)
    health, health_problem = _serve(ctx, account, PredictionType.HEALTH_TREND, force=False)
    return render(
        ctx,
        "accounts/detail.html",
        **_account_values(ctx, account, now, churn, churn_problem, health, health_problem),
    )


def _account_values(
    ctx: PageContext,
    account: Customer,
    now: datetime,
    churn: Served | None,
    churn_problem: str | None,
    health: Served | None,
    health_problem: str | None,
) -> dict[str, Any]:
    session = ctx.session
    history = customer_predictions(
        session,
        customer_id=account.id,
        prediction_types=ACCOUNT_TYPES,
        include_expired=True,
        now=now,
        limit=HISTORY_LIMIT,
    )
    churn_history = [p for p in history if p.prediction_type == PredictionType.CHURN.value]
    risk_category = churn_urgency = None
    waterfall = None
    if churn is not None and churn.model is not None and churn.prediction.probability is not None:
        probability = float(churn.prediction.probability)
        cutoffs = RiskCutoffs.of(threshold=churn.model.threshold, settings=ctx.settings)
        risk_category = cutoffs.category(probability)
        churn_urgency = urgency(risk_category, renewal_date=account.renewal_date, now=now)
        labels = {
            name: humanize(name)
            for name in (churn.prediction.contributions or {}).get("features", {})
        }
        waterfall = probability_waterfall(
            churn.prediction.contributions or {}, probability, labels=labels
        )
    horizon = DEFAULT_HEALTH_HORIZON
    if health is not None and health.model is not None and health.model.horizon_days:
        horizon = int(health.model.horizon_days)
    scores = health_history(session, customer_id=account.id, until=now.date()).overall
    ctas = list_ctas(session, customer_id=account.id, limit=CTA_LIMIT)
    churn_outputs = churn.prediction.outputs if churn is not None else {}
    health_outputs = health.prediction.outputs if health is not None else {}
    return {
        "account": account,
        "owner": owner_of(account),
        "churn": churn,
        "churn_problem": churn_problem,
        "health": health,
        "health_problem": health_problem,
        "no_model": NO_MODEL,
        "risk_category": risk_category,
        "urgency": churn_urgency,
        "waterfall": waterfall,
        "waterfall_chart": None if waterfall is None else waterfall_spec(waterfall),
        "churn_chart": churn_history_spec(churn_history) if churn_history else None,
        "health_chart": health_spec(
            scores,
            health.prediction if health is not None else None,
            horizon_days=horizon,
            today=now.date(),
        )
        if scores or health is not None
        else None,
        "horizon": horizon,
        "risk_factors": (churn_outputs or {}).get("riskFactors") or [],
        "strengths": (churn_outputs or {}).get("strengths") or [],
        "recommendations": _distinct_actions(
            [
                *((churn_outputs or {}).get("recommendations") or []),
                *((health_outputs or {}).get("recommendations") or []),
            ]
        ),
        "ctas": ctas,
        "next_statuses": {s.value: [n.value for n in NEXT_STATUSES[s]] for s in CtaStatus},
        "history": history,
        "days_to_renewal": None
        if account.renewal_date is None
        else (account.renewal_date - now.date()).days,
        "cta_types": ("RISK", "RENEWAL", "ONBOARDING"),
        "cta_priorities": ("HIGH", "MEDIUM", "LOW"),
        "humanize": humanize,
    }


def _distinct_actions(recommendations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Churn's and health's recommendations, each action once (the first, most urgent)."""
    seen: set[str] = set()
    out = []
    for recommendation in recommendations:
        action = str(recommendation.get("action", ""))
        if action and action not in seen:
            seen.add(action)
            out.append(recommendation)
    return out


def _back(account_id: int, **message: str) -> RedirectResponse:
    query = f"?{urlencode(message)}" if message else ""
    return RedirectResponse(f"/accounts/{account_id}{query}", status_code=303)


@router.post("/accounts/{account_id}/score")
def score_now(account_id: str, ctx: ViewerPage, _form: CsrfForm) -> RedirectResponse:
    """Scores the account afresh with the model serving it (the API's forceRefresh): an
    analyst's action, as on the API (a viewer reads the stored predictions)."""
    require_scorer(ctx.principal)
    account = _account(ctx, account_id)
    before, _ = _serve(ctx, account, PredictionType.CHURN, force=False)
    churn, churn_problem = _serve(ctx, account, PredictionType.CHURN, force=True)
    health, _ = _serve(ctx, account, PredictionType.HEALTH_TREND, force=True)
    if churn is None:
        reason = (
            "no churn model is trained for accounts yet"
            if churn_problem == NO_MODEL
            else churn_problem or "it could not be scored"
        )
        return _back(account.id, problem=f"Not scored: {reason}.")
    parts = [f"Scored now: churn risk {pct(churn.prediction.probability)}"]
    if before is not None and before.prediction.id != churn.prediction.id:
        parts.append(f"(was {pct(before.prediction.probability)})")
    if health is not None and health.prediction.predicted_value is not None:
        parts.append(f"; health forecast {health.prediction.predicted_value:.1f}")
    return _back(account.id, notice=" ".join(parts) + ".")


@router.post("/accounts/{account_id}/ctas/{cta_id}")
def change_cta(
    account_id: str,
    cta_id: str,
    ctx: AnalystPage,
    _form: CsrfForm,
    status: Annotated[str, Form()] = "",
) -> RedirectResponse:
    account = _account(ctx, account_id)
    number = parse_id(cta_id)
    if number is None:
        raise PageError(404, "There is no such CTA on this account.")
    try:
        cta = save_cta_update(
            ctx.session, cta_id=number, account_id=account.id, status=status, now=utcnow()
        )
    except PropensityError as exc:
        if exc.status_code == 404:
            raise PageError(404, "There is no such CTA on this account.") from exc
        return _back(account.id, problem=exc.message)
    label = cta.status.replace("_", " ").lower()
    return _back(account.id, notice=f"CTA “{cta.title}” is now {label}.")


@router.post("/accounts/{account_id}/ctas")
def new_cta(
    account_id: str,
    ctx: AnalystPage,
    _form: CsrfForm,
    title: Annotated[str, Form()] = "",
    type: Annotated[str, Form()] = "RISK",
    priority: Annotated[str, Form()] = "MEDIUM",
    description: Annotated[str, Form()] = "",
) -> RedirectResponse:
    account = _account(ctx, account_id)
    try:
        cta = save_manual_cta(
            ctx.session,
            account_id=account.id,
            type=type,
            priority=priority,
            title=title,
            description=description,
            user_id=ctx.principal.user_id,
            now=utcnow(),
        )
    except PropensityError as exc:
        return _back(account.id, problem=f"CTA not created: {exc.message}.")
    return _back(account.id, notice=f"CTA “{cta.title}” created.")
