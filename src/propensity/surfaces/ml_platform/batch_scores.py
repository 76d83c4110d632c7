"""`POST /api/ml/leads/batch-score` and `GET /api/ml/batch/{jobId}/results`.

A batch is the real `score_portfolio` job (predictions/lead_batches.py) over the requested
leads that the tenant has, scored as of the request time by the active CONVERSION model.
Results are the predictions that job stored (`predicted_at` == the job's asOf, by the champion
or, during a deployment, the challenger each lead is routed to), read per
page (`page`, `limit`: beyond the document, so 100,000 leads never come back in one body);
the summary covers every requested lead. A requested id that is not one of the tenant's
leads is a result with `error: "Lead not found"`.

`estimatedCompletion` = now + JOB_START_SECONDS + leads / LEADS_PER_SECOND: a conservative
throughput (the target is 100,000 leads in under 30 s, bench/RESULTS.md), not a promise.

`priority` (low, normal, high) is the job's queue priority (QUEUE_PRIORITY): among queued
jobs a high batch starts before normal work and a low one after it; a running job is never
interrupted, and equal priorities run in arrival order.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response
from fastapi.responses import JSONResponse

from propensity.db import Session, utcnow
from propensity.deps import Analyst, TenantSession, Viewer
from propensity.errors import InvalidInput, NotFound
from propensity.jobs import Job, JobStatus, get_job
from propensity.mlconfig import load_ml_config
from propensity.models import ModelStatus, ModelVersion
from propensity.predictions.lead_batches import batch_scores, batch_summary, queue_lead_scoring
from propensity.predictions.tasks import SCORE_PORTFOLIO
from propensity.serving import requested_version, serving_models
from propensity.surfaces.ml_platform.batch_scores_input import bounded_lead_ids
from propensity.surfaces.ml_platform.common import limited, model_label, ok, pagination
from propensity.surfaces.ml_platform.schemas import BatchScoreRequest
from propensity.surfaces.responses import json_response
from propensity.timefmt import iso_z
from propensity.vocabulary import Population, PredictionType

router = APIRouter()

SOURCE = "ml-batch-score"
PRIORITIES = ("low", "normal", "high")
QUEUE_PRIORITY = {"low": -10, "normal": 0, "high": 10}
JOB_START_SECONDS = 2.0
LEADS_PER_SECOND = 2000.0
MAX_PAGE_SIZE = 1000
# The document's job states: queued and running work is "processing".
STATUS = {
    JobStatus.QUEUED.value: "processing",
    JobStatus.RUNNING.value: "processing",
    JobStatus.COMPLETED.value: "completed",
    JobStatus.FAILED.value: "failed",
    JobStatus.CANCELLED.value: "cancelled",
}


def estimated_completion(now: datetime, leads: int) -> datetime:
    return now + timedelta(seconds=JOB_START_SECONDS + leads / LEADS_PER_SECOND)


def parse_priority(value: str | None) -> str:
    text = "normal" if value is None else value.strip().lower()
    if text not in PRIORITIES:
        raise InvalidInput(
            f"Invalid priority '{value}': use one of {', '.join(PRIORITIES)}",
            code="VALIDATION_ERROR",
            details={"field": "priority", "allowed": list(PRIORITIES)},
        )
    return text


def batch_model(session: Session, requested: str | int | None) -> ModelVersion:
    """The active CONVERSION lead model: batches score with it (and its challenger during a
    deployment). Naming another one is a 400; an unknown one 404; none trained 503."""
    text = None if requested is None else str(requested)
    if text is None or not text.strip():
        return serving_models(
            session, prediction_type=PredictionType.CONVERSION, population=Population.LEAD.value
        ).active
    version = requested_version(
        session,
        prediction_type=PredictionType.CONVERSION,
        population=Population.LEAD.value,
        requested=text,
    )
    if version.status != ModelStatus.ACTIVE.value:
        raise InvalidInput(
            f"Batch scoring uses the active model ({model_label(version)} is not active): "
            "omit model, or deploy this one first",
            code="VALIDATION_ERROR",
            details={"field": "model", "modelId": version.id},
        )
    return version


@router.post("/leads/batch-score", status_code=202)
def batch_score(
    response: Response,
    principal: Analyst,
    session: TenantSession,
    _limit: Annotated[None, Depends(limited("batch"))],
    body: Annotated[BatchScoreRequest, Body()],
) -> JSONResponse:
    config = load_ml_config(session, tenant_id=principal.tenant_id)
    lead_ids = bounded_lead_ids(body.lead_ids, max_size=config.scoring.maxBatchSize)
    priority = parse_priority(body.priority)
    version = batch_model(session, body.model)
    now = utcnow()
    queued = queue_lead_scoring(
        session,
        lead_ids=lead_ids,
        model=version,
        as_of=now,
        priority=QUEUE_PRIORITY[priority],
        user_id=principal.user_id,
        tags={"source": SOURCE, "priority": priority},
    )
    job = queued.job
    data = {
        "jobId": job.id,
        "status": STATUS[job.status],
        "estimatedCompletion": iso_z(estimated_completion(now, queued.known)),
        "totalLeads": len(lead_ids),
        "completed": job.completed,
        "priority": priority,
        "modelVersion": model_label(version),
    }
    return json_response(ok(data), carried=response, status_code=202)


def batch_job(session: Session, job_id: str) -> Job:
    job = get_job(session, job_id=job_id)  # the tenant session: another tenant's is not found
    if job.type != SCORE_PORTFOLIO or (job.params or {}).get("source") != SOURCE:
        raise NotFound("Job not found", code="JOB_NOT_FOUND", details={"jobId": job_id})
    return job


def summary(session: Session, job: Job, *, total: int, unknown: int) -> dict[str, Any]:
    done = job.status == JobStatus.COMPLETED.value
    if not done:
        # Unfinished: only the ids known to fail so far.
        return {
            "total": total,
            "successful": 0,
            "failed": unknown,
            "averageScore": None,
            "averageConfidence": None,
        }
    stored = batch_summary(session, as_of=as_of(job))
    mean_probability, mean_confidence = stored.mean_probability, stored.mean_confidence
    return {
        "total": total,
        "successful": stored.scored,
        "failed": total - stored.scored,
        "averageScore": None if mean_probability is None else round(100 * mean_probability, 2),
        "averageConfidence": None if mean_confidence is None else round(mean_confidence, 3),
    }


def as_of(job: Job) -> datetime:
    """The time the job scored as of: its rows carry it (not filtered by model: during a
    champion/challenger deployment the job's leads are scored by either, ADR 0008)."""
    return datetime.fromisoformat(str((job.params or {})["asOf"]))


@router.get("/batch/{job_id}/results")
def batch_results(
    job_id: str,
    principal: Viewer,
    session: TenantSession,
    _limit: Annotated[None, Depends(limited("batch"))],
    page: Annotated[int, Query(ge=1)] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
) -> dict[str, Any]:
    job = batch_job(session, job_id)
    params = job.params or {}
    requested = [int(i) for i in params.get("leadIds") or []]
    known = {int(i) for i in params.get("entityIds") or []}
    shown = requested[(page - 1) * limit : page * limit]
    done = job.status == JobStatus.COMPLETED.value
    stored = batch_scores(session, as_of=as_of(job), lead_ids=shown) if done else {}
    results = []
    for lead_id in shown:
        probability, confidence = stored.get(lead_id, (None, None))
        error = None
        if lead_id not in known:
            error = "Lead not found"
        elif done and lead_id not in stored:
            error = "Lead not scored"
        elif job.status in (JobStatus.FAILED.value, JobStatus.CANCELLED.value):
            error = f"Batch job {job.status}"
        results.append(
            {
                "leadId": lead_id,
                "score": None if probability is None else round(100 * probability, 1),
                "confidence": None if confidence is None else round(confidence, 3),
                "error": error,
            }
        )
    data = {
        "jobId": job.id,
        "status": STATUS.get(job.status, job.status),
        "progress": job.progress,
        "completedAt": iso_z(job.finished_at) if done else None,
        "results": results,
        "summary": summary(session, job, total=len(requested), unknown=len(set(requested) - known)),
    }
    return ok(data, pagination=pagination(page=page, limit=limit, total=len(requested)))
