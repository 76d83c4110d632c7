"""`/subscribers`: the subscriber churn KPIs. Summary tiles, the risk distribution, cohorts,
the trend from the daily portfolio snapshots and the highest-risk subscribers.

Every number is read through the portfolio package exactly as the churn-kpi surface
(`/api/kpi/churn/summary`, `/cohorts`, `/chart-data`) and the RetainStream dashboard
(`/api/dashboard/metrics`, `/distribution`, `/api/customers/high-risk`) read it: the tiles and
cohorts are `current_portfolio` of the active subscriber churn model, the distribution and the
high-risk list are `portfolio.subscribers`, the trend is the stored snapshots (every snapshot
in the window, where chart-data keeps the newest one per step).
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from propensity.crm.lookup import parse_id
from propensity.portfolio import subscribers
from propensity.portfolio.cohorts import AT_RISK, EXCLUSIVE_COHORTS
from propensity.portfolio.risk import BUCKETS, risk_level, threshold_of
from propensity.portfolio.service import current_portfolio, latest_snapshot, snapshots_between
from propensity.registry.service import active_version
from propensity.vocabulary import Population, PredictionType
from propensity.web.context import PageError, ViewerPage
from propensity.web.render import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
MAX_PAGE = 10_000
COHORT_ORDER = (*EXCLUSIVE_COHORTS, AT_RISK)
# Trend windows (days back from the newest snapshot), as chart-data names them.
PERIODS = {"30d": 30, "12w": 84, "6m": 183, "1y": 365}
DEFAULT_PERIOD = "12w"


def _bucket_label(start: float) -> str:
    if start >= 1.0:
        return "100%"
    following = BUCKETS[BUCKETS.index(start) + 1]
    return f"{round(start * 100)}-{round(following * 100)}%"


def _distribution_chart(buckets: list[tuple[float, int]]) -> dict[str, Any]:
    return {
        "type": "bar",
        "data": {
            "labels": [_bucket_label(start) for start, _ in buckets],
            "datasets": [{"label": "Subscribers", "data": [n for _, n in buckets]}],
        },
        "options": {
            "plugins": {"legend": {"display": False}},
            "scales": {
                "x": {"title": {"display": True, "text": "Churn probability"}},
                "y": {"title": {"display": True, "text": "Subscribers"}, "beginAtZero": True},
            },
        },
    }


def _trend_chart(points: list[Any]) -> dict[str, Any]:
    return {
        "type": "line",
        "data": {
            "labels": [p.snapshot_date.isoformat() for p in points],
            "datasets": [
                {
                    "label": "Average risk score",
                    "data": [round(float(p.average_risk_score), 2) for p in points],
                    "yAxisID": "y",
                },
                {
                    "label": "At-risk subscribers",
                    "data": [int(p.at_risk_count) for p in points],
                    "yAxisID": "y1",
                },
            ],
        },
        "options": {
            "scales": {
                "y": {
                    "position": "left",
                    "title": {"display": True, "text": "Average risk (0-100)"},
                },
                "y1": {
                    "position": "right",
                    "grid": {"drawOnChartArea": False},
                    "title": {"display": True, "text": "At risk"},
                    "beginAtZero": True,
                },
            }
        },
    }


@router.get("/subscribers", response_class=HTMLResponse)
def subscribers_page(ctx: ViewerPage, period: str = "", page: str = "") -> HTMLResponse:
    session = ctx.session
    slug = ctx.principal.tenant_slug
    hints = {
        "train": f"propensity train CHURN --tenant {slug} --kind subscriber",
        "score": f"propensity score CHURN --tenant {slug} --kind subscriber",
    }
    period = period or DEFAULT_PERIOD
    if period not in PERIODS:
        raise PageError(400, f"Unknown period {period!r}: choose one of {', '.join(PERIODS)}.")
    version = active_version(
        session,
        prediction_type=PredictionType.CHURN.value,
        population=Population.SUBSCRIBER.value,
    )
    if version is None:
        return render(ctx, "subscribers/page.html", model=None, current=None, hints=hints)
    current = current_portfolio(session, version=version)
    if current is None:
        return render(ctx, "subscribers/page.html", model=version, current=None, hints=hints)
    threshold = threshold_of(version)
    total = current.figures.total
    rates = subscribers.churn_rates(session)
    buckets = subscribers.distribution(session)
    newest = latest_snapshot(session)
    points: list[Any] = []
    if newest is not None:
        start = newest.snapshot_date - timedelta(days=PERIODS[period] - 1)
        points = list(snapshots_between(session, start=start, end=newest.snapshot_date))
    number = min((parse_id(page) or 1) if page else 1, MAX_PAGE)
    rows, flagged = subscribers.high_risk_page(
        session, threshold=threshold, page=number, limit=PAGE_SIZE
    )
    pages = max(1, math.ceil(flagged / PAGE_SIZE))
    if number > pages:
        number = pages
        rows, flagged = subscribers.high_risk_page(
            session, threshold=threshold, page=number, limit=PAGE_SIZE
        )
    return render(
        ctx,
        "subscribers/page.html",
        model=version,
        current=current,
        hints=hints,
        threshold=threshold,
        total=total,
        rates=rates,
        auc=(version.metrics or {}).get("roc_auc"),
        distribution_chart=_distribution_chart(buckets),
        buckets=[(_bucket_label(start), n) for start, n in buckets],
        cohorts=[current.figures.cohorts[name] for name in COHORT_ORDER],
        points=points,
        trend_chart=_trend_chart(points) if points else None,
        period=period,
        periods=list(PERIODS),
        rows=[(row, risk_level(row.probability, threshold)) for row in rows],
        flagged_total=flagged,
        page=number,
        pages=pages,
        params={"period": period} if period != DEFAULT_PERIOD else {},
    )
