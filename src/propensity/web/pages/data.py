"""`/data`: the data a tenant brings and the work it sets going. The overview, and the jobs
(`/data/jobs`, `/data/jobs/{id}`) with live progress: the same jobs `GET /api/v1/jobs` lists
(jobs.service.list_jobs, chunk rows hidden), the same progress (clamped to 0..1 as JobOut does)
and the same cancel (`POST /api/v1/jobs/{id}/cancel`, analysts and admins).

Imports, webhooks and API keys have their own modules (data_imports, data_webhooks,
data_keys); the sections a user may not use are not shown.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from propensity.crm.staging import list_uploads
from propensity.errors import PropensityError
from propensity.jobs.commands import cancel_job_committed
from propensity.jobs.service import MAX_LIST_LIMIT, get_job, list_jobs, parse_status
from propensity.models import Job, JobStatus
from propensity.tenancy.service import list_api_keys
from propensity.web.context import AnalystPage, CsrfForm, PageContext, ViewerPage
from propensity.web.pages.data_common import redirect_with
from propensity.web.render import render
from propensity.webhooks.service import list_subscriptions

router = APIRouter(include_in_schema=False)

JOB_NAMES = {
    "train_model": "Train a model",
    "auto_retrain": "Retrain on drift",
    "score_portfolio": "Score the portfolio",
    "webhooks.deliver": "Webhook delivery",
}
UNFINISHED = {JobStatus.QUEUED.value, JobStatus.RUNNING.value}
RECENT_JOBS = 8
PAGE_JOBS = 100


@dataclass(frozen=True)
class JobRow:
    """A job as the page shows it, with the numbers `GET /api/v1/jobs/{id}` gives."""

    id: str
    type: str
    name: str
    about: str
    status: str
    stage: str | None
    progress: float
    completed: int
    total: int | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: dict[str, Any] | None

    @property
    def unfinished(self) -> bool:
        return self.status in UNFINISHED


def _about(params: dict[str, Any]) -> str:
    """What the job works on, from the parameters it was queued with."""
    parts = [
        str(params[key])
        for key in ("predictionType", "kind", "eventType", "name")
        if params.get(key) not in (None, "")
    ]
    if params.get("entityIds"):
        parts.append(f"{len(params['entityIds']):,} entities")
    return " · ".join(parts)


def job_row(job: Job) -> JobRow:
    return JobRow(
        id=job.id,
        type=job.type,
        name=JOB_NAMES.get(job.type, job.type.replace("_", " ").replace(".", " ").capitalize()),
        about=_about(job.params or {}),
        status=job.status,
        stage=job.stage,
        # As the API's JobOut: a fraction clamped to 0..1.
        progress=min(max(job.progress or 0.0, 0.0), 1.0),
        completed=job.completed,
        total=job.total,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        result=job.result,
    )


@router.get("/data")
def overview(ctx: ViewerPage) -> HTMLResponse:
    jobs = [job_row(j) for j in list_jobs(ctx.session, limit=MAX_LIST_LIMIT)]
    counts = Counter(j.status for j in jobs)
    uploads = list_uploads(ctx.settings.home, tenant_id=ctx.tenant_id) if ctx.is_analyst else []
    hooks = list_subscriptions(ctx.session) if ctx.is_analyst else []
    keys = [k for k in list_api_keys(ctx.session) if k.revoked_at is None] if ctx.is_admin else []
    return render(
        ctx,
        "data/index.html",
        section="overview",
        jobs=jobs[:RECENT_JOBS],
        running=counts[JobStatus.RUNNING.value],
        queued=counts[JobStatus.QUEUED.value],
        failed=counts[JobStatus.FAILED.value],
        uploads=uploads,
        hooks=hooks,
        disabled_hooks=sum(1 for h in hooks if not h.active),
        keys=keys,
    )


def _status_filter(value: str | None) -> JobStatus | None:
    return parse_status(value) if value else None


@router.get("/data/jobs")
def jobs_page(
    ctx: ViewerPage,
    status: Annotated[str | None, Query()] = None,
    type: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    try:
        wanted = _status_filter(status)
    except PropensityError as exc:
        return render(
            ctx, "data/jobs.html", status_code=400, **_jobs_values(ctx, problem=exc.message)
        )
    jobs = [
        job_row(j)
        for j in list_jobs(ctx.session, status=wanted, type=type or None, limit=PAGE_JOBS)
    ]
    return render(
        ctx, "data/jobs.html", **_jobs_values(ctx, jobs=jobs, status=status or "", type=type or "")
    )


def _jobs_values(
    ctx: PageContext,
    *,
    jobs: list[JobRow] | None = None,
    status: str = "",
    type: str = "",
    problem: str | None = None,
) -> dict[str, Any]:
    # The type filter offers the types of the tenant's recent jobs (and the one asked for).
    recent = list_jobs(ctx.session, limit=MAX_LIST_LIMIT)
    types = sorted({j.type for j in recent} | ({type} if type else set()))
    return {
        "section": "jobs",
        "jobs": jobs or [],
        "status": status,
        "type": type,
        "statuses": [s.value for s in JobStatus],
        "types": [(t, JOB_NAMES.get(t, t)) for t in types],
        "problem": problem,
        "filtered": bool(status or type),
    }


@router.get("/data/jobs/{job_id}")
def job_page(job_id: str, ctx: ViewerPage) -> HTMLResponse:
    job = job_row(get_job(ctx.session, job_id=job_id))
    result = json.dumps(job.result, indent=2, sort_keys=True, default=str) if job.result else ""
    return render(ctx, "data/job.html", section="jobs", job=job, result_json=result)


@router.post("/data/jobs/{job_id}/cancel")
def cancel(job_id: str, ctx: AnalystPage, form: CsrfForm) -> Response:
    back = str(form.get("next") or "")
    target = back if back in {"/data/jobs", "/data"} else f"/data/jobs/{job_id}"
    try:
        job = cancel_job_committed(ctx.session, job_id=job_id)
    except PropensityError as exc:
        if exc.status_code == 404:
            raise
        return redirect_with(target, problem=exc.message)
    return redirect_with(target, notice=f"{job_row(job).name} ({job.id[:8]}) is cancelled.")
