"""GET /api/model/status, POST /api/model/train (admin), GET /api/model/features."""

from __future__ import annotations

from fastapi import APIRouter

from propensity.deps import Admin, AppDatabase, TenantSession, Viewer
from propensity.errors import InvalidInput
from propensity.portfolio.versions import previous_version
from propensity.registry.service import get_version
from propensity.surfaces.retainstream import modelinfo
from propensity.surfaces.retainstream.payloads import (
    ComparisonOut,
    ImportanceData,
    ImportanceOut,
    ImportanceResponse,
    StatusData,
    StatusResponse,
    TrainData,
    TrainMetricsOut,
    TrainResponse,
)
from propensity.surfaces.retainstream.route import RateLimitedRoute
from propensity.timefmt import iso_z
from propensity.training.service import train_prediction_type

router = APIRouter(prefix="/model", route_class=RateLimitedRoute)


@router.get("/status", response_model=StatusResponse)
def status(_viewer: Viewer, session: TenantSession) -> StatusResponse:
    version = modelinfo.require_model(session)
    comparison = modelinfo.compare(version, previous_version(session, version=version))
    return StatusResponse(
        data=StatusData(
            version=version.version,
            algorithm=modelinfo.algorithm_label(version),
            status=version.status.capitalize(),
            auc_score=modelinfo.metric(version, "roc_auc"),
            training_samples=modelinfo.training_samples(version),
            features=len(version.feature_specs or []),
            last_updated=iso_z(version.activated_at or version.trained_at),
            performance=ComparisonOut(
                improved=comparison.improved,
                previous_auc=comparison.previous_auc,
                current_auc=comparison.current_auc,
                improvement=comparison.improvement,
            ),
        )
    )


@router.post("/train", response_model=TrainResponse)
def train(principal: Admin, database: AppDatabase, session: TenantSession) -> TrainResponse:
    """Trains and activates a new subscriber churn version synchronously. Too little data is
    the InsufficientData error (422) with its reason; the metrics are the new version's
    held-out ones."""
    outcome = train_prediction_type(
        database,
        tenant_id=principal.tenant_id,
        prediction_type=modelinfo.PREDICTION_TYPE.value,
        kind=modelinfo.POPULATION.value,
    )
    version = get_version(session, version_id=outcome.version_id)
    return TrainResponse(
        data=TrainData(
            metrics=TrainMetricsOut(
                auc=modelinfo.metric(version, "roc_auc"),
                precision=modelinfo.metric(version, "precision"),
                recall=modelinfo.metric(version, "recall"),
                f1_score=modelinfo.metric(version, "f1"),
                training_samples=modelinfo.training_samples(version),
            )
        )
    )


@router.get("/features", response_model=ImportanceResponse)
def features(_viewer: Viewer, session: TenantSession, limit: str = "") -> ImportanceResponse:
    """Every feature of the active model by global importance share, or the top `limit`."""
    try:
        top = int(limit) if limit else None
    except ValueError:
        top = 0
    if top is not None and top < 1:
        raise InvalidInput("limit must be a positive integer")
    version = modelinfo.require_model(session)
    ranked = modelinfo.importance(version, top)
    return ImportanceResponse(
        data=ImportanceData(features=[ImportanceOut(name=n, importance=v) for n, v in ranked])
    )
