"""The churn-kpi surface's answers, computed from the portfolio and the model registry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from propensity.db import Session
from propensity.errors import InvalidInput, Unavailable
from propensity.models import ModelVersion, PortfolioSnapshot
from propensity.portfolio import kpi
from propensity.portfolio.aggregate import CohortStats
from propensity.portfolio.cohorts import AT_RISK, EXCLUSIVE_COHORTS
from propensity.portfolio.risk import threshold_of
from propensity.portfolio.service import (
    current_portfolio,
    latest_prediction_time,
    latest_snapshot,
    snapshots_between,
)
from propensity.registry.service import active_version
from propensity.surfaces.churn_kpi import schemas
from propensity.vocabulary import Population, PredictionType

SUMMARY_UNAVAILABLE = "Unable to connect to database or load model"
COHORTS_UNAVAILABLE = "Unable to load cohort data"
METRICS_UNAVAILABLE = "Unable to load model metrics"
CHART_UNAVAILABLE = "Unable to load chart data"
RISK_FACTORS_UNAVAILABLE = "Unable to load risk factors"
CHART_TYPES = ("distribution",)
INVALID_CHART_TYPE = "Invalid type parameter. Use: distribution (or no type for the trend)"
INVALID_PERIOD = "Invalid period parameter. Use: 7d, 30d, 7w, 12w, 6m, 1y"
# Cohort order of the document's example, then the overlapping At-Risk cohort.
COHORT_ORDER = (*EXCLUSIVE_COHORTS, AT_RISK)

MODEL_TYPES = {
    "xgboost": "XGBoost Binary Classification",
    "logistic": "Logistic Regression",
    "blend": "Blend of XGBoost and Logistic Regression",
    "catboost": "CatBoost Binary Classification",
}


@dataclass(frozen=True)
class Period:
    """A chart window: `days` back from the newest snapshot, one point per `step_days`."""

    days: int
    step_days: int


# Daily for 7d/30d, weekly for 7w/12w, every 30 days ("monthly") for 6m/1y.
PERIODS = {
    "7d": Period(7, 1),
    "30d": Period(30, 1),
    "7w": Period(49, 7),
    "12w": Period(84, 7),
    "6m": Period(183, 30),
    "1y": Period(365, 30),
}


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _r(value: float, digits: int = 2) -> float:
    return round(float(value), digits)


def _model(session: Session, message: str) -> ModelVersion:
    """The active subscriber churn model; the document's 503 with `message` without one."""
    version = active_version(
        session,
        prediction_type=PredictionType.CHURN.value,
        population=Population.SUBSCRIBER.value,
    )
    if version is None:
        raise Unavailable(message, code="MODEL_UNAVAILABLE")
    return version


def summary(session: Session) -> schemas.ChurnSummary:
    version = _model(session, SUMMARY_UNAVAILABLE)
    current = current_portfolio(session, version=version)
    if current is None:
        raise Unavailable(SUMMARY_UNAVAILABLE, code="NO_PREDICTIONS")
    total = current.figures.total
    return schemas.ChurnSummary(
        atRiskCount=total.at_risk_count,
        totalCustomers=total.customer_count,
        atRiskPercentage=_r(total.at_risk_percentage),
        averageRiskScore=_r(total.average_risk_score),
        totalLTVAtRisk=_r(total.ltv_at_risk),
        modelConfidence=_r(float(version.metrics.get("roc_auc") or 0.0), 4),
        lastUpdate=iso_z(current.as_of),
        modelVersion=version.version,
    )


def _cohort(stats: CohortStats) -> schemas.CohortData:
    return schemas.CohortData(
        cohort=stats.cohort,
        customerCount=stats.customer_count,
        atRiskCount=stats.at_risk_count,
        atRiskPercentage=_r(stats.at_risk_percentage),
        averageRiskScore=_r(stats.average_risk_score),
        ltvAtRisk=_r(stats.ltv_at_risk),
        averageRiskScoreAtRisk=_r(stats.average_risk_score_at_risk),
    )


def cohorts(session: Session) -> schemas.ChurnCohorts:
    version = _model(session, COHORTS_UNAVAILABLE)
    current = current_portfolio(session, version=version)
    if current is None:
        raise Unavailable(COHORTS_UNAVAILABLE, code="NO_PREDICTIONS")
    return schemas.ChurnCohorts(
        cohorts=[_cohort(current.figures.cohorts[name]) for name in COHORT_ORDER],
        lastUpdate=iso_z(current.as_of),
    )


def model_type(algorithm: str | None) -> str:
    return MODEL_TYPES.get(algorithm or "", f"{algorithm or 'Unknown'} Binary Classification")


def _training_samples(version: ModelVersion, test_rows: int) -> int:
    calibration: Any = version.selection.get("calibration")
    if isinstance(calibration, dict) and isinstance(calibration.get("rows"), int):
        return int(calibration["rows"])
    rows = version.training_summary.get("rows")
    return max(0, int(rows) - test_rows) if isinstance(rows, int) else 0


def metrics(session: Session) -> schemas.ChurnMetrics:
    version = _model(session, METRICS_UNAVAILABLE)
    m = version.metrics
    test_rows = int(m.get("rows") or 0)
    trained = version.trained_at or version.created_at
    train_rows = _training_samples(version, test_rows)
    auc = _r(float(m.get("roc_auc") or 0.0), 4)
    return schemas.ChurnMetrics(
        modelId=str(version.id),
        modelName=version.name,
        modelConfidence=auc,
        lastUpdate=iso_z(version.activated_at or trained),
        trainingStats=schemas.TrainingStats(
            trainSamples=train_rows, testSamples=test_rows, featureCount=len(version.feature_specs)
        ),
        modelType=model_type(version.algorithm),
        modelVersion=version.version,
        aucScore=auc,
        accuracy=_r(float(m.get("accuracy") or 0.0), 4),
        precision=_r(float(m.get("precision") or 0.0), 4),
        recall=_r(float(m.get("recall") or 0.0), 4),
        f1Score=_r(float(m.get("f1") or 0.0), 4),
        optimalThreshold=_r(threshold_of(version), 4),
        trainingDate=iso_z(trained),
        trainingSamples=train_rows,
        testSamples=test_rows,
        featureCount=len(version.feature_specs),
        status="ACTIVE",
        isProduction=True,
    )


def parse_period(value: str) -> Period:
    period = PERIODS.get(value)
    if period is None:
        raise InvalidInput(INVALID_PERIOD, code="INVALID_PERIOD")
    return period


def spaced(
    snapshots: Sequence[PortfolioSnapshot], *, end: date, step_days: int
) -> list[PortfolioSnapshot]:
    """The newest stored snapshot in each `step_days` bucket counted back from `end`,
    oldest first. Buckets without a snapshot have no point (nothing is fabricated)."""
    chosen: dict[int, PortfolioSnapshot] = {}
    for snapshot in snapshots:
        bucket = (end - snapshot.snapshot_date).days // step_days
        best = chosen.get(bucket)
        if best is None or snapshot.snapshot_date > best.snapshot_date:
            chosen[bucket] = snapshot
    return [chosen[b] for b in sorted(chosen, reverse=True)]


def chart_data(session: Session, *, period: str) -> schemas.ChurnChartData:
    window = parse_period(period)
    _model(session, CHART_UNAVAILABLE)
    newest = latest_snapshot(session)
    if newest is None:
        updated = latest_prediction_time(session)
        return schemas.ChurnChartData(
            riskScoreTrend=[],
            cohortDistribution=[],
            period=period,
            lastUpdate=iso_z(updated) if updated else None,
        )
    end = newest.snapshot_date
    start = end - timedelta(days=window.days - 1)
    points = spaced(
        snapshots_between(session, start=start, end=end), end=end, step_days=window.step_days
    )
    return schemas.ChurnChartData(
        riskScoreTrend=[
            schemas.RiskTrendPoint(
                date=p.snapshot_date.isoformat(),
                averageRiskScore=_r(p.average_risk_score),
                atRiskCount=p.at_risk_count,
                totalCustomers=p.total_customers,
            )
            for p in points
        ],
        cohortDistribution=[
            schemas.CohortDistributionPoint(
                date=p.snapshot_date.isoformat(),
                cohorts={name: int(p.cohorts.get(name, 0)) for name in EXCLUSIVE_COHORTS},
            )
            for p in points
        ],
        period=period,
        lastUpdate=iso_z(newest.as_of),
    )


def _current(session: Session, message: str) -> tuple[ModelVersion, datetime]:
    version = _model(session, message)
    as_of = latest_prediction_time(session)
    if as_of is None:
        raise Unavailable(message, code="NO_PREDICTIONS")
    return version, as_of


def parse_chart_type(value: str) -> str:
    chart_type = value.strip().lower()
    if chart_type not in CHART_TYPES:
        raise InvalidInput(INVALID_CHART_TYPE, code="INVALID_TYPE")
    return chart_type


def distribution(session: Session, *, chart_type: str) -> schemas.ChurnDistribution:
    parse_chart_type(chart_type)
    version, as_of = _current(session, CHART_UNAVAILABLE)
    ranges = kpi.risk_distribution(session, version=version, as_of=as_of)
    return schemas.ChurnDistribution(
        chartType="distribution",
        data=[
            schemas.DistributionPoint(
                riskRange=r.label, customerCount=r.customer_count, atRiskCount=r.at_risk_count
            )
            for r in ranges
        ],
        lastUpdate=iso_z(as_of),
    )


def risk_factors(session: Session) -> schemas.ChurnRiskFactors:
    version, as_of = _current(session, RISK_FACTORS_UNAVAILABLE)
    return schemas.ChurnRiskFactors(
        riskFactors=[
            schemas.ChurnRiskFactor(
                riskFactor=f.name,
                impactScore=f.impact,
                affectedCustomers=f.affected_customers,
                primarySegment=f.primary_segment,
                feature=f.feature,
                averageContribution=round(f.mean_contribution, 4),
            )
            for f in kpi.risk_factors(session, version=version, as_of=as_of)
        ],
        lastUpdate=iso_z(as_of),
    )


def cohort_detail(
    session: Session, *, name: str, limit: int, sort: str, at_risk_only: bool
) -> schemas.ChurnCohortDetail:
    cohort = kpi.parse_cohort(name)
    version, as_of = _current(session, COHORTS_UNAVAILABLE)
    total, members = kpi.cohort_members(
        session,
        version=version,
        as_of=as_of,
        cohort=cohort,
        limit=limit,
        sort=sort,
        at_risk_only=at_risk_only,
    )
    return schemas.ChurnCohortDetail(
        cohort=cohort,
        totalCount=total,
        users=[
            schemas.CohortUser(
                userId=m.customer_id,
                churnProbability=_r(m.probability, 4),
                ltv=_r(m.lifetime_value),
                atRisk=m.at_risk,
            )
            for m in members
        ],
        sort=sort,
        atRiskOnly=at_risk_only,
        lastUpdate=iso_z(as_of),
    )


def parse_limit(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(
            f"Invalid limit parameter. Use 1 to {kpi.MAX_COHORT_LIMIT}", code="INVALID_LIMIT"
        ) from None


def parse_flag(value: str) -> bool:
    text = value.strip().lower()
    if text not in ("true", "false", "1", "0"):
        raise InvalidInput("Invalid atRiskOnly parameter. Use: true, false", code="INVALID_FLAG")
    return text in ("true", "1")
