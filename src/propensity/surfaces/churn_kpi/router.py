"""spec/churn-kpi.md under `/api/kpi/churn`: summary, cohorts, metrics and chart data.

Deviation from the document: it says no headers are required, but these figures are a
tenant's customer data, which is never public. Every endpoint requires the usual
credential (a bearer token, API key or token cookie) with at least the viewer role, and
answers for the caller's tenant only. A later ADR records this.

Additions for the document's dashboard client (ADR 0015): `averageRiskScoreAtRisk` on each
cohort; modelId, modelName, modelConfidence, lastUpdate and trainingStats on metrics;
`chart-data?type=distribution`; `risk-factors`; `cohorts/{name}` (limit, sort, atRiskOnly).
Computed in portfolio.kpi.

Also beyond the document: "at-risk" uses the active model's learned threshold (not 0.41),
and chart-data comes from stored daily snapshots (see propensity.portfolio), not the
current figures repeated. Its window ends at the newest snapshot's date and holds one point
per day (7d, 30d), per 7 days (7w, 12w) or per 30 days (6m = 183 days, 1y = 365 days): the
newest snapshot in each step, and no point where none was recorded. Without any history the
series are empty lists and `lastUpdate` is the current predictions' time (null if none).
A tenant without a trained subscriber churn model, or a database that cannot be reached,
answers the documented 503 with `fallback: true`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Query

from propensity.db import unavailable_on_outage
from propensity.deps import TenantSession, Viewer
from propensity.prefix_router import PrefixRouter
from propensity.surfaces.churn_kpi import schemas, service

router = PrefixRouter(prefix="/api/kpi/churn", tags=["churn-kpi"])

T = TypeVar("T")


def _guarded(message: str, compute: Callable[[], T]) -> T:
    with unavailable_on_outage(message):
        return compute()


@router.get("/summary", response_model=schemas.ChurnSummary)
def churn_summary(_viewer: Viewer, session: TenantSession) -> schemas.ChurnSummary:
    return _guarded(service.SUMMARY_UNAVAILABLE, lambda: service.summary(session))


@router.get("/cohorts", response_model=schemas.ChurnCohorts)
def churn_cohorts(_viewer: Viewer, session: TenantSession) -> schemas.ChurnCohorts:
    return _guarded(service.COHORTS_UNAVAILABLE, lambda: service.cohorts(session))


@router.get("/metrics", response_model=schemas.ChurnMetrics)
def churn_metrics(_viewer: Viewer, session: TenantSession) -> schemas.ChurnMetrics:
    return _guarded(service.METRICS_UNAVAILABLE, lambda: service.metrics(session))


@router.get("/chart-data", response_model=schemas.ChurnChartData | schemas.ChurnDistribution)
def churn_chart_data(
    _viewer: Viewer,
    session: TenantSession,
    period: str = "7w",
    type: Annotated[
        str | None, Query(description="distribution: subscribers per tenth of risk")
    ] = None,
) -> schemas.ChurnChartData | schemas.ChurnDistribution:
    if type is not None:
        chart_type = type
        return _guarded(
            service.CHART_UNAVAILABLE,
            lambda: service.distribution(session, chart_type=chart_type),
        )
    return _guarded(service.CHART_UNAVAILABLE, lambda: service.chart_data(session, period=period))


@router.get("/risk-factors", response_model=schemas.ChurnRiskFactors)
def churn_risk_factors(_viewer: Viewer, session: TenantSession) -> schemas.ChurnRiskFactors:
    return _guarded(service.RISK_FACTORS_UNAVAILABLE, lambda: service.risk_factors(session))


@router.get("/cohorts/{name}", response_model=schemas.ChurnCohortDetail)
def churn_cohort_detail(
    _viewer: Viewer,
    session: TenantSession,
    name: str,
    limit: Annotated[str, Query(description="1 to 1000")] = "50",
    sort: Annotated[str, Query(description="probability or ltv, highest first")] = "probability",
    atRiskOnly: Annotated[str, Query(description="true or false")] = "false",  # noqa: N803
) -> schemas.ChurnCohortDetail:
    parsed_limit = service.parse_limit(limit)
    at_risk_only = service.parse_flag(atRiskOnly)
    return _guarded(
        service.COHORTS_UNAVAILABLE,
        lambda: service.cohort_detail(
            session, name=name, limit=parsed_limit, sort=sort, at_risk_only=at_risk_only
        ),
    )
