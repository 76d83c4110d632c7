"""Model registry endpoints: list, detail, create (train), status, delete, retrain and
training status. Model ids are ModelVersion ids of the caller's tenant; types and metric names
are mapped as models_registry_shape documents; training choices and their allowed ranges are
training.hyperparameters. Created and retrained models train as `train_model` jobs queued by
training.requests and end `inactive`: activate them with PUT .../status or deploy them
(deploy.py). Status rules: registry.lifecycle."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response
from fastapi.responses import JSONResponse

from propensity.db import utcnow
from propensity.deps import Admin, Analyst, TenantSession, Viewer
from propensity.errors import NotFound
from propensity.jobs import JobStatus
from propensity.models import ModelVersion
from propensity.registry.lifecycle import SETTABLE, delete_version, set_status
from propensity.registry.versions import version_page
from propensity.surfaces.ml_platform.common import limited, ok, pagination
from propensity.surfaces.ml_platform.models_monitoring_lookup import version_or_404
from propensity.surfaces.ml_platform.models_registry_eta import describe, estimated_completion
from propensity.surfaces.ml_platform.models_registry_input import (
    NOT_APPLIED_CREATE,
    NOT_APPLIED_RETRAIN,
    invalid,
    missing_type,
    not_applied,
    text_or_none,
    training_request,
)
from propensity.surfaces.ml_platform.models_registry_shape import (
    detail,
    doc_type,
    named_metrics,
    parse_status,
    parse_type,
    summary,
)
from propensity.surfaces.ml_platform.schemas import (
    CreateModelRequest,
    RetrainRequest,
    StatusRequest,
)
from propensity.surfaces.responses import json_response
from propensity.timefmt import iso_z
from propensity.training.requests import (
    expected_duration,
    queue_training,
    retrain_request,
    training_job,
)

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
    found = version_page(
        session,
        status=parse_status(status),
        prediction_types=parse_type(type),
        page=page,
        limit=limit,
    )
    return ok(
        [summary(v) for v in found.versions],
        pagination=pagination(page=page, limit=limit, total=found.total),
    )


@router.get("/models/{model_id}")
def get_model(
    model_id: str, principal: Viewer, session: TenantSession, _limit: Management
) -> dict[str, Any]:
    del principal
    return ok(detail(version_or_404(session, model_id)))


@router.post("/models", status_code=202)
def create_model(
    response: Response,
    principal: Analyst,
    session: TenantSession,
    _limit: Management,
    body: Annotated[CreateModelRequest | None, Body()] = None,
) -> JSONResponse:
    if body is None:
        raise missing_type()
    queued = queue_training(
        session,
        request=training_request(body),
        name=text_or_none(body.name),
        description=text_or_none(body.description) or "",
        user_id=principal.user_id,
    )
    job, version = queued.job, queued.version
    data = {
        "modelId": str(version.id),
        "jobId": job.id,
        "status": JOB_STATES[job.status],
        "name": version.name,
        "type": doc_type(version.prediction_type),
        "predictionType": version.prediction_type,
        "population": version.population,
        "algorithm": queued.algorithm,
        "version": version.version,
        "statusUrl": f"/api/ml/training/{job.id}/status",
        "queuedAt": iso_z(job.created_at),
        "notApplied": not_applied(body, NOT_APPLIED_CREATE),
    }
    return json_response(ok(data), carried=response, status_code=202)


@router.put("/models/{model_id}/status")
def update_status(
    model_id: str,
    principal: Admin,
    session: TenantSession,
    _limit: Management,
    body: Annotated[StatusRequest | None, Body()] = None,
) -> dict[str, Any]:
    if body is None or body.status.strip().lower() not in SETTABLE:
        raise invalid(f"status must be one of {', '.join(SETTABLE)}", "status")
    status = body.status.strip().lower()
    version = version_or_404(session, model_id)
    set_status(
        session,
        version=version,
        status=status,
        reason=text_or_none(body.reason) or "",
        user_id=principal.user_id,
    )
    return ok(detail(version))


@router.delete("/models/{model_id}")
def delete_model(
    model_id: str, principal: Admin, session: TenantSession, _limit: Management
) -> dict[str, Any]:
    del principal
    version = version_or_404(session, model_id)
    deleted = {"modelId": str(version.id), "version": version.version, "deleted": True}
    delete_version(session, version=version)
    return ok(deleted)


@router.post("/models/{model_id}/retrain", status_code=202)
def retrain_model(
    model_id: str,
    response: Response,
    principal: Analyst,
    session: TenantSession,
    _limit: Management,
    body: Annotated[RetrainRequest | None, Body()] = None,
) -> JSONResponse:
    fields = body or RetrainRequest()
    reason = text_or_none(fields.reason) or ""
    version = version_or_404(session, model_id)
    changes = fields.model_dump(by_alias=True, include={"validation_split"}, exclude_unset=True)
    request = retrain_request(version, changes=changes)
    description = f"Retrain of {version.version} (model {version.id})" + (
        f": {reason}" if reason else ""
    )
    # Measured before the new version is reserved, so it comes from a finished training.
    duration = expected_duration(
        session, prediction_type=version.prediction_type, population=version.population
    )
    queued = queue_training(
        session, request=request, name=None, description=description, user_id=principal.user_id
    )
    job = queued.job
    data = {
        "jobId": job.id,
        "modelId": str(version.id),
        # The new version the job trains (the document's modelId is the model retrained).
        "newModelId": str(queued.version.id),
        "status": "queued",
        "estimatedDuration": None if duration is None else describe(duration),
        "estimatedDurationSeconds": None if duration is None else round(duration.total_seconds()),
        "queuedAt": iso_z(job.created_at),
        "statusUrl": f"/api/ml/training/{job.id}/status",
        "notApplied": not_applied(body, NOT_APPLIED_RETRAIN),
    }
    return json_response(ok(data), carried=response, status_code=202)


def _failure(
    job_status: str, version: ModelVersion | None, job_error: str | None
) -> dict[str, Any] | None:
    if job_status != JobStatus.FAILED.value:
        return None
    stored = ((version.training_summary or {}).get("failure") if version else None) or {}
    details: dict[str, Any] = {"reason": (version.error if version else None) or job_error}
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
    found = training_job(session, job_id=job_id)
    if found is None:
        # The document's errors name what was not found.
        raise NotFound("Training job not found", code="JOB_NOT_FOUND", details={"jobId": job_id})
    job, version = found.job, found.version
    result = job.result or {}
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
            "error": _failure(job.status, version, job.error),
            "estimatedCompletion": iso_z(estimated_completion(job, found.expected, now=utcnow())),
            "queuedAt": iso_z(job.created_at),
            "startedAt": iso_z(job.started_at),
            "finishedAt": iso_z(job.finished_at),
        }
    )
