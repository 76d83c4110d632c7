"""Model registry endpoints: list, detail, create (train), status, delete, retrain and
training status. Model ids are ModelVersion ids of the caller's tenant; types and metric names
are mapped as models_registry_shape documents; training choices and their allowed ranges are
training.hyperparameters. Created and retrained models train as `train_model` jobs and end
`inactive`: activate them with PUT .../status or deploy them (deploy.py). Status rules:
registry.lifecycle."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from propensity.db import utcnow
from propensity.deps import Admin, Analyst, TenantSession, Viewer
from propensity.errors import NotFound
from propensity.jobs import Job, JobStatus, enqueue_job, get_job
from propensity.models import ModelVersion
from propensity.registry.lifecycle import SETTABLE, change_status, delete_version
from propensity.surfaces.ml_platform.common import limited, ok, pagination
from propensity.surfaces.ml_platform.models_monitoring_lookup import version_or_404
from propensity.surfaces.ml_platform.models_registry_eta import (
    describe,
    estimated_completion,
    expected_duration,
)
from propensity.surfaces.ml_platform.models_registry_input import (
    MAX_NAME,
    MAX_TEXT,
    NOT_APPLIED_CREATE,
    NOT_APPLIED_RETRAIN,
    TrainSpec,
    body_object,
    invalid,
    not_applied,
    optional_text,
    retrain_spec,
    train_spec,
)
from propensity.surfaces.ml_platform.models_registry_shape import (
    detail,
    doc_type,
    named_metrics,
    parse_status,
    parse_type,
    summary,
)
from propensity.timefmt import iso_z
from propensity.training.service import reserve_version
from propensity.training.tasks import TRAIN_MODEL

router = APIRouter()
Management = Annotated[None, Depends(limited("management"))]
MAX_LIMIT = 100
# The document's training states; a queued job has not started training yet.
JOB_STATES = {
    JobStatus.QUEUED.value: "queued",
    JobStatus.RUNNING.value: "training",
    JobStatus.COMPLETED.value: "completed",
    JobStatus.FAILED.value: "failed",
    JobStatus.CANCELLED.value: "cancelled",
}


@router.get("/models")
def list_models(
    principal: Viewer,
    session: TenantSession,
    _limit: Management,
    status: Annotated[str | None, Query()] = None,
    type: Annotated[str | None, Query(description="scoring, classification or regression")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
) -> dict[str, Any]:
    del principal
    wanted_status = parse_status(status)
    types = parse_type(type)
    where: list[Any] = []
    if wanted_status:
        where.append(ModelVersion.status == wanted_status)
    if types:
        where.append(ModelVersion.prediction_type.in_(types))
    total = session.scalar(sa.select(sa.func.count(ModelVersion.id)).where(*where)) or 0
    rows = session.scalars(
        sa.select(ModelVersion)
        .where(*where)
        .order_by(ModelVersion.id.desc())
        .offset((page - 1) * limit)
        .limit(limit)
    )
    return ok(
        [summary(v) for v in rows], pagination=pagination(page=page, limit=limit, total=total)
    )


@router.get("/models/{model_id}")
def get_model(
    model_id: str, principal: Viewer, session: TenantSession, _limit: Management
) -> dict[str, Any]:
    del principal
    return ok(detail(version_or_404(session, model_id)))


def _queue_training(
    session: Session, *, spec: TrainSpec, name: str | None, description: str, user_id: int | None
) -> tuple[Job, ModelVersion]:
    """The job and the version it will train, reserved now (status training) so the response
    can name it; both are written in the request's transaction, or neither."""
    job = enqueue_job(
        session,
        type=TRAIN_MODEL,
        params=spec.job_params(name=name, description=description),
        total=1000,
        created_by=user_id,
    )
    version = reserve_version(
        session,
        prediction_type=spec.prediction_type,
        kind=spec.kind,
        name=name,
        description=description,
        job_id=job.id,
    )
    job.params = {**job.params, "modelId": version.id}
    return job, version


@router.post("/models", status_code=202)
def create_model(
    principal: Analyst,
    session: TenantSession,
    _limit: Management,
    body: Annotated[Any, Body()] = None,
) -> JSONResponse:
    fields = body_object(body)
    name = optional_text(fields, "name", MAX_NAME)
    description = optional_text(fields, "description", MAX_TEXT) or ""
    spec = train_spec(fields)
    job, version = _queue_training(
        session, spec=spec, name=name, description=description, user_id=principal.user_id
    )
    session.commit()
    data = {
        "modelId": str(version.id),
        "jobId": job.id,
        "status": JOB_STATES[job.status],
        "name": version.name,
        "type": doc_type(version.prediction_type),
        "predictionType": version.prediction_type,
        "population": version.population,
        "algorithm": spec.algorithm,
        "version": version.version,
        "statusUrl": f"/api/ml/training/{job.id}/status",
        "queuedAt": iso_z(job.created_at),
        "notApplied": not_applied(fields, NOT_APPLIED_CREATE),
    }
    return JSONResponse(ok(data), status_code=202)


@router.put("/models/{model_id}/status")
def update_status(
    model_id: str,
    principal: Admin,
    session: TenantSession,
    _limit: Management,
    body: Annotated[Any, Body()] = None,
) -> dict[str, Any]:
    fields = body_object(body)
    status = fields.get("status")
    if not isinstance(status, str) or status.strip().lower() not in SETTABLE:
        raise invalid(f"status must be one of {', '.join(SETTABLE)}", "status")
    reason = optional_text(fields, "reason", MAX_TEXT) or ""
    version = version_or_404(session, model_id)
    change_status(
        session,
        version=version,
        status=status.strip().lower(),
        reason=reason,
        user_id=principal.user_id,
    )
    session.commit()
    return ok(detail(version))


@router.delete("/models/{model_id}")
def delete_model(
    model_id: str, principal: Admin, session: TenantSession, _limit: Management
) -> dict[str, Any]:
    del principal
    version = version_or_404(session, model_id)
    deleted = {"modelId": str(version.id), "version": version.version, "deleted": True}
    delete_version(session, version=version)
    session.commit()
    return ok(deleted)


@router.post("/models/{model_id}/retrain", status_code=202)
def retrain_model(
    model_id: str,
    principal: Analyst,
    session: TenantSession,
    _limit: Management,
    body: Annotated[Any, Body()] = None,
) -> JSONResponse:
    fields = body_object(body)
    reason = optional_text(fields, "reason", MAX_TEXT) or ""
    version = version_or_404(session, model_id)
    spec = retrain_spec(version, fields)
    description = f"Retrain of {version.version} (model {version.id})" + (
        f": {reason}" if reason else ""
    )
    # Measured before the new version is reserved, so it comes from a finished training.
    duration = expected_duration(
        session, prediction_type=version.prediction_type, population=version.population
    )
    job, retrained = _queue_training(
        session, spec=spec, name=None, description=description, user_id=principal.user_id
    )
    session.commit()
    data = {
        "jobId": job.id,
        "modelId": str(version.id),
        # The new version the job trains (the document's modelId is the model retrained).
        "newModelId": str(retrained.id),
        "status": "queued",
        "estimatedDuration": None if duration is None else describe(duration),
        "estimatedDurationSeconds": None if duration is None else round(duration.total_seconds()),
        "queuedAt": iso_z(job.created_at),
        "statusUrl": f"/api/ml/training/{job.id}/status",
        "notApplied": not_applied(fields, NOT_APPLIED_RETRAIN),
    }
    return JSONResponse(ok(data), status_code=202)


def _failure(session: Session, job: Job) -> dict[str, Any] | None:
    if job.status != JobStatus.FAILED.value:
        return None
    version = session.scalars(
        sa.select(ModelVersion).where(ModelVersion.job_id == job.id).order_by(ModelVersion.id)
    ).first()
    stored = ((version.training_summary or {}).get("failure") if version else None) or {}
    details: dict[str, Any] = {"reason": (version.error if version else None) or job.error}
    if "min_rows" in stored:
        details["minSamples"] = stored["min_rows"]
    if "rows" in stored:
        details["actualSamples"] = stored["rows"]
    details.update({k: v for k, v in stored.items() if k != "code"})
    insufficient = stored.get("code") == "INSUFFICIENT_DATA"
    return {
        "code": "MODEL_TRAINING_FAILED",
        "message": "Model training failed due to insufficient data"
        if insufficient
        else "Model training failed",
        "details": details,
    }


@router.get("/training/{job_id}/status")
def training_status(
    job_id: str, principal: Viewer, session: TenantSession, _limit: Management
) -> dict[str, Any]:
    del principal
    missing = NotFound("Training job not found", code="JOB_NOT_FOUND", details={"jobId": job_id})
    try:
        job = get_job(session, job_id=job_id)  # tenant-scoped: another tenant's is not found
    except NotFound:
        raise missing from None  # the document's errors name what was not found
    if job.type != TRAIN_MODEL:
        raise missing
    version = session.scalars(
        sa.select(ModelVersion).where(ModelVersion.job_id == job.id).order_by(ModelVersion.id)
    ).first()
    result = job.result or {}
    duration = (
        expected_duration(
            session, prediction_type=version.prediction_type, population=version.population
        )
        if version is not None
        else None
    )
    return ok(
        {
            "jobId": job.id,
            "status": JOB_STATES.get(job.status, job.status),
            "progress": round(float(job.progress or 0.0), 3),
            "currentStage": job.stage,
            "modelId": str(version.id) if version else None,
            # Named as GET /models/{id} names them (the job stores the trainer's names).
            "metrics": None
            if result.get("metrics") is None
            else named_metrics(dict(result["metrics"])),
            "error": _failure(session, job),
            "estimatedCompletion": iso_z(estimated_completion(job, duration, now=utcnow())),
            "queuedAt": iso_z(job.created_at),
            "startedAt": iso_z(job.started_at),
            "finishedAt": iso_z(job.finished_at),
        }
    )
