"""GET /api/dashboard/{metrics,distribution,features}, POST /api/dashboard/predict.

predictedChurners.confidence is the active model's held-out ROC-AUC as a percentage (how
well it ranks churners), not a constant; its change is the flagged count minus the flagged
count of the portfolio as it stood before the latest scoring run (each subscriber's newest
earlier prediction), both at the current threshold; "+0" after the first run. modelAuc.status is
"Degraded" when the held-out AUC dropped by more than 0.02 against the previous version."""

from __future__ import annotations

from fastapi import APIRouter

from propensity.deps import Analyst, TenantSession, Viewer
from propensity.portfolio import subscribers
from propensity.portfolio.risk import threshold_of
from propensity.portfolio.scoring import score_sample
from propensity.portfolio.versions import previous_version
from propensity.surfaces.retainstream import modelinfo
from propensity.surfaces.retainstream.payloads import (
    BucketOut,
    ChurnRateOut,
    DistributionResponse,
    FactorOut,
    FactorsResponse,
    MetricsData,
    MetricsResponse,
    ModelAucOut,
    PredictedChurnersOut,
    PredictRunResponse,
    SampleRequest,
    ScoringData,
)
from propensity.surfaces.retainstream.present import percent, signed
from propensity.surfaces.retainstream.route import RateLimitedRoute
from propensity.timefmt import iso_z

router = APIRouter(prefix="/dashboard", route_class=RateLimitedRoute)
TOP_FACTORS = 5


@router.get("/metrics", response_model=MetricsResponse)
def metrics(_viewer: Viewer, session: TenantSession) -> MetricsResponse:
    version = modelinfo.require_model(session)
    threshold = threshold_of(version)
    rates = subscribers.churn_rates(session)
    flagged = subscribers.flagged_count(session, threshold=threshold)
    before = subscribers.previous_run_flagged(session, threshold=threshold)
    comparison = modelinfo.compare(version, previous_version(session, version=version))
    auc = modelinfo.metric(version, "roc_auc")
    return MetricsResponse(
        data=MetricsData(
            churnRate=ChurnRateOut(
                current=rates.current,
                previous=rates.previous,
                change=signed(rates.current - rates.previous, digits=1, suffix="%"),
            ),
            predictedChurners=PredictedChurnersOut(
                count=flagged,
                confidence=percent(auc),
                change=signed(flagged - (before if before is not None else flagged), digits=0),
            ),
            modelAuc=ModelAucOut(
                score=auc, status=modelinfo.auc_status(comparison), version=version.version
            ),
        )
    )


@router.get("/distribution", response_model=DistributionResponse)
def distribution(_viewer: Viewer, session: TenantSession) -> DistributionResponse:
    modelinfo.require_model(session)
    buckets = subscribers.distribution(session)
    return DistributionResponse(data=[BucketOut(bucket=b, count=n) for b, n in buckets])


@router.get("/features", response_model=FactorsResponse)
def features(_viewer: Viewer, session: TenantSession) -> FactorsResponse:
    version = modelinfo.require_model(session)
    ranked = modelinfo.importance(version, TOP_FACTORS)
    return FactorsResponse(data=[FactorOut(name=n, value=v) for n, v in ranked])


@router.post("/predict", response_model=PredictRunResponse)
def predict(
    _analyst: Analyst, session: TenantSession, body: SampleRequest | None = None
) -> PredictRunResponse:
    modelinfo.require_model(session)
    size = (body or SampleRequest()).sample_size
    summary = score_sample(session, size=size)
    return PredictRunResponse(
        data=ScoringData(
            predictions_generated=summary.generated,
            average_probability=summary.average_probability,
            timestamp=iso_z(summary.as_of) or "",
        )
    )
