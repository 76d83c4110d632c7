"""GET /api/model/status, POST /api/model/train (admin), GET /api/model/features."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from propensity.db import Database
from propensity.deps import Admin, AppDatabase, AppSettings, TenantSession, Viewer
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
from propensity.tenancy.service import Principal
from propensity.timefmt import iso_z
from propensity.training.requests import awaited_training, queue_activation_training

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


POLL_SECONDS = 0.5


@router.post("/train", response_model=TrainResponse)
async def train(principal: Admin, database: AppDatabase, settings: AppSettings) -> Response:
    """Trains and activates a new subscriber churn version as a job (on a worker, never on a
    request thread) and answers with its held-out metrics once it has finished; the wait holds
    no thread. After `retainstream_train_wait_seconds` the answer is 202 with the job's id,
    to follow at GET /api/v1/jobs/{jobId}. Too little data is the InsufficientData error (422)."""
    job_id = await run_in_threadpool(_queue_training, database, principal)
    deadline = time.monotonic() + settings.retainstream_train_wait_seconds
    while True:
        version_id = await run_in_threadpool(_finished, database, principal.tenant_id, job_id)
        if version_id is not None:
            body = await run_in_threadpool(_trained, database, principal.tenant_id, version_id)
            return JSONResponse(body.model_dump())
        if time.monotonic() >= deadline:
            return JSONResponse(
                {
                    "success": True,
                    "message": "Model training is still running",
                    "data": {"jobId": job_id, "status": f"/api/v1/jobs/{job_id}"},
                },
                status_code=202,
            )
        await asyncio.sleep(POLL_SECONDS)


def _queue_training(database: Database, principal: Principal) -> str:
    with database.request_session(principal.tenant_id) as session:
        job = queue_activation_training(
            session,
            prediction_type=modelinfo.PREDICTION_TYPE.value,
            kind=modelinfo.POPULATION.value,
            user_id=principal.user_id,
        )
        return str(job.id)


def _finished(database: Database, tenant_id: int, job_id: str) -> int | None:
    with database.request_session(tenant_id) as session:
        return awaited_training(session, job_id=job_id)


def _trained(database: Database, tenant_id: int, version_id: int) -> TrainResponse:
    with database.request_session(tenant_id) as session:
        version = get_version(session, version_id=version_id)
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
