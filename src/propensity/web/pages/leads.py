"""The sales rep's pages: `/leads`, a configuration's open leads ranked by priority (expected
value), and `/leads/{id}`, one lead's conversion, score breakdown, factors and time to close.

Both read what the lead-ml surface reads, through the same core calls, so the numbers are the
API's: the ranking is `serving.lead_ranking.rank_config` (ranked-leads, top-leads,
leads-by-tier), a lead's conversion is its newest CONVERSION prediction
(`GET /api/lead-scoring/leads/{id}/ml/prediction`) and its days to close the valid
TIME_TO_CLOSE answer quoted with it. Reading a page scores nothing: a lead without a valid
answer is counted as unscored, and the page says how to score it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from propensity.crm.lead_catalog import lead_configs, lead_sources
from propensity.crm.lead_configs import find_config
from propensity.crm.lookup import find_lead, parse_id
from propensity.db import utcnow
from propensity.models import Lead, Prediction, PredictionStatus
from propensity.predictions.lead_scores import (
    GROUPS,
    TIERS,
    Days,
    days_of,
    lead_score,
    level,
    level_cutoffs,
    score_breakdown,
    threshold_of,
)
from propensity.predictions.service import latest_predictions
from propensity.serving import serving_models_or_none
from propensity.serving.lead_ranking import RankedLead, load_details, rank_config
from propensity.serving.leads import LEAD, quoted_time
from propensity.serving.service import current_many
from propensity.settings import Settings
from propensity.vocabulary import PredictionType
from propensity.web.context import PageContext, PageError, ViewerPage
from propensity.web.render import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
MAX_PAGE = 10_000
TOP_FEATURES = 8


def score_level(prediction: Prediction, settings: Settings) -> str:
    """HOT/WARM/COLD as the lead-ml surface words it (predictions/lead_scores.py)."""
    hot, warm = level_cutoffs(
        threshold_of(prediction),
        hot=settings.lead_hot_probability,
        warm=settings.lead_warm_probability,
    )
    return level(float(prediction.probability or 0.0), hot=hot, warm=warm)


def _page_number(raw: str) -> int:
    number = parse_id(raw) if raw else 1
    return min(number or 1, MAX_PAGE)


@dataclass(frozen=True)
class LeadRow:
    ranked: RankedLead
    level: str
    days: Days | None
    value: float | None


def _train_hint(slug: str) -> str:
    return f"propensity train CONVERSION --tenant {slug}"


@router.get("/leads", response_class=HTMLResponse)
def leads(
    ctx: ViewerPage,
    config: str = "",
    tier: str = "",
    source: str = "",
    page: str = "",
) -> HTMLResponse:
    session, now = ctx.session, utcnow()
    configs = lead_configs(session)
    if not configs:
        return render(ctx, "leads/list.html", configs=[], chosen=None, model=None)
    chosen = configs[0]
    if config:
        config_id = parse_id(config)
        found = None if config_id is None else find_config(session, config_id=config_id)
        if found is None:
            raise PageError(404, f"There is no lead configuration {config!r} in your workspace.")
        chosen = found
    tier = tier.strip().lower()
    if tier and tier not in TIERS:
        raise PageError(400, f"Unknown tier {tier!r}: choose one of {', '.join(TIERS)}.")
    model = serving_models_or_none(
        session, prediction_type=PredictionType.CONVERSION, population=LEAD
    )
    ranking = rank_config(session, config_id=chosen.id, now=now, settings=ctx.settings)
    tier_counts = {name: 0 for name in TIERS}
    for item in ranking.leads:
        tier_counts[item.tier] += 1
    matching = [
        r
        for r in ranking.leads
        if (not tier or r.tier == tier) and (not source or r.lead.source == source)
    ]
    pages = max(1, math.ceil(len(matching) / PAGE_SIZE))
    number = min(_page_number(page), pages)
    shown = matching[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    # The ranking defers the predictions' JSON; the page's rows read their threshold.
    load_details(session, shown)
    # The page's rows only: the ranking quotes the median days, the page also its interval.
    times = current_many(
        session,
        prediction_type=PredictionType.TIME_TO_CLOSE,
        population=LEAD,
        entity_ids=[r.lead.id for r in shown],
        now=now,
    )
    rows = [
        LeadRow(
            ranked=r,
            level=score_level(r.conversion, ctx.settings),
            days=days_of(times[r.lead.id].prediction) if r.lead.id in times else None,
            value=r.lead.deal_value if r.lead.deal_value is not None else r.lead.budget,
        )
        for r in shown
    ]
    params = {"config": str(chosen.id), "tier": tier, "source": source}
    return render(
        ctx,
        "leads/list.html",
        configs=configs,
        chosen=chosen,
        model=model,
        rows=rows,
        tier=tier,
        config_choices=[(c.id, c.name) for c in configs],
        tier_choices=[(t, f"{t.title()} ({tier_counts[t]})") for t in TIERS],
        tier_counts=tier_counts,
        source=source,
        sources=lead_sources(session, config_id=chosen.id),
        ranked_count=len(ranking.leads),
        open_count=ranking.open_count,
        matching_count=len(matching),
        page=number,
        pages=pages,
        params={k: v for k, v in params.items() if v},
        train_hint=_train_hint(ctx.principal.tenant_slug),
    )


def _lead_or_404(ctx: PageContext, raw_id: str) -> Lead:
    lead_id = parse_id(raw_id)
    lead = None if lead_id is None else find_lead(ctx.session, lead_id=lead_id)
    if lead is None:
        raise PageError(404, f"There is no lead {raw_id!r} in your workspace.")
    return lead


def _top_features(prediction: Prediction) -> list[dict[str, Any]]:
    """The features that moved the conversion most (signed log-odds), largest first."""
    contributions = prediction.contributions or {}
    values = contributions.get("values") or {}
    features = contributions.get("features") or {}
    ranked = sorted(
        ((str(k), float(v)) for k, v in features.items() if isinstance(v, int | float)),
        key=lambda item: -abs(item[1]),
    )
    return [
        {"feature": name, "contribution": value, "value": _shown(values.get(name))}
        for name, value in ranked[:TOP_FEATURES]
    ]


def _shown(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() else f"{value:.2f}"
    return str(value)


def _breakdown_chart(breakdown: dict[str, int]) -> dict[str, Any]:
    return {
        "type": "bar",
        "data": {
            "labels": [g.title() for g in GROUPS],
            "datasets": [{"label": "Points", "data": [breakdown[g] for g in GROUPS]}],
        },
        "options": {"indexAxis": "y", "plugins": {"legend": {"display": False}}},
    }


@router.get("/leads/{lead_id}", response_class=HTMLResponse)
def lead_detail(lead_id: str, ctx: ViewerPage) -> HTMLResponse:
    session, now = ctx.session, utcnow()
    lead = _lead_or_404(ctx, lead_id)
    newest = latest_predictions(
        session,
        population=LEAD,
        entity_ids=[lead.id],
        prediction_type=PredictionType.CONVERSION.value,
    )
    conversion = newest.get(lead.id)
    timed = quoted_time(session, lead_id=lead.id, now=now)
    priority = latest_predictions(
        session,
        population=LEAD,
        entity_ids=[lead.id],
        prediction_type=PredictionType.PRIORITY.value,
    ).get(lead.id)
    values: dict[str, Any] = {
        "lead": lead,
        "config": None
        if lead.config_id is None
        else find_config(session, config_id=lead.config_id),
        "conversion": conversion,
        "timed": timed,
        "days": None if timed is None else days_of(timed),
        "priority": priority,
        "value": lead.deal_value if lead.deal_value is not None else lead.budget,
        "train_hint": _train_hint(ctx.principal.tenant_slug),
    }
    if conversion is not None:
        score = lead_score(float(conversion.probability or 0.0))
        groups = (conversion.contributions or {}).get("groups") or {}
        breakdown = score_breakdown(score, groups)
        valid_until = conversion.valid_until
        if valid_until.tzinfo is None:
            valid_until = valid_until.replace(tzinfo=UTC)
        values.update(
            score=score,
            breakdown=breakdown,
            groups=[(g, breakdown[g], groups.get(g)) for g in GROUPS],
            breakdown_chart=_breakdown_chart(breakdown),
            level=score_level(conversion, ctx.settings),
            factors=(conversion.outputs or {}).get("riskFactors") or [],
            recommendations=(conversion.outputs or {}).get("recommendations") or [],
            top_features=_top_features(conversion),
            method=(conversion.outputs or {}).get("method") or "model",
            expired=conversion.status != PredictionStatus.ACTIVE or valid_until <= now,
        )
    return render(ctx, "leads/detail.html", **values)
