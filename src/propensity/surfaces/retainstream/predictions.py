"""GET /api/predictions/results, POST /api/predictions/generate,
GET /api/predictions/performance."""

from __future__ import annotations

from fastapi import APIRouter

from propensity.db import utcnow
from propensity.deps import Analyst, TenantSession, Viewer
from propensity.errors import InvalidInput
from propensity.portfolio import subscribers
from propensity.portfolio.scoring import score_sample
from propensity.surfaces.retainstream import modelinfo
from propensity.surfaces.retainstream.payloads import (
    GenerateResponse,
    PerformanceData,
    PerformanceResponse,
    ResultOut,
    ResultsData,
    ResultsResponse,
    SampleRequest,
    ScoringData,
)
from propensity.surfaces.retainstream.route import RateLimitedRoute
from propensity.timefmt import iso_z

router = APIRouter(prefix="/predictions", route_class=RateLimitedRoute)
DEFAULT_RESULTS = 100
MAX_RESULTS = 1000


@router.get("/results", response_model=ResultsResponse)
def results(_viewer: Viewer, session: TenantSession, limit: str = "") -> ResultsResponse:
    """The latest ACTIVE predictions (newest run first, riskiest first within a run); `limit`
    defaults to 100 and is capped at 1000. `total` counts every ACTIVE prediction."""
    try:
        size = int(limit) if limit else DEFAULT_RESULTS
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_RESULTS:
        raise InvalidInput(f"limit must be an integer between 1 and {MAX_RESULTS}")
    modelinfo.require_model(session)
    rows = subscribers.latest_results(session, limit=size)
    predictions = [
        ResultOut(
            customer_id=external_id,
            churn_probability=round(float(p.probability or 0.0), 4),
            confidence=None if p.confidence is None else round(p.confidence, 4),
            prediction_date=iso_z(p.predicted_at),
        )
        for external_id, p in rows
    ]
    return ResultsResponse(
        data=ResultsData(
            predictions=predictions,
            total=subscribers.scored_count(session),
            timestamp=iso_z(utcnow()) or "",
        )
    )


@router.post("/generate", response_model=GenerateResponse)
def generate(
    _analyst: Analyst, session: TenantSession, body: SampleRequest | None = None
) -> GenerateResponse:
    modelinfo.require_model(session)
    summary = score_sample(session, size=(body or SampleRequest()).sample_size)
    return GenerateResponse(
        data=ScoringData(
            predictions_generated=summary.generated,
            average_probability=summary.average_probability,
            timestamp=iso_z(summary.as_of) or "",
        )
    )


@router.get("/performance", response_model=PerformanceResponse)
def performance(_viewer: Viewer, session: TenantSession) -> PerformanceResponse:
    """The active model's metrics on its held-out (time-split) test set."""
    version = modelinfo.require_model(session)
    return PerformanceResponse(
        data=PerformanceData(
            auc=modelinfo.metric(version, "roc_auc"),
            precision=modelinfo.metric(version, "precision"),
            recall=modelinfo.metric(version, "recall"),
            f1_score=modelinfo.metric(version, "f1"),
            training_samples=modelinfo.training_samples(version),
            model_version=version.version,
            last_trained=iso_z(version.trained_at),
        )
    )
