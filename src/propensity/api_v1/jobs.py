"""Job status for clients: what is queued, running, done; cancel what is not done yet."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from propensity.deps import Analyst, TenantSession, Viewer
from propensity.jobs.service import MAX_LIST_LIMIT, cancel_job, get_job, list_jobs, parse_status
from propensity.models import Job

router = APIRouter(prefix="/jobs", tags=["jobs"])


class JobOut(BaseModel):
    id: str
    type: str
    status: str = Field(description="queued, running, completed, failed or cancelled")
    stage: str | None
    progress: float = Field(ge=0, le=1, description="Fraction done, 0 to 1")
    total: int | None
    completed: int
    result: dict[str, Any] | None
    error: str | None = Field(description="Why the job failed, or why the last attempt did")
    attempts: int
    createdAt: datetime  # noqa: N815 - the API's camelCase
    startedAt: datetime | None  # noqa: N815
    finishedAt: datetime | None  # noqa: N815

    @classmethod
    def of(cls, job: Job) -> JobOut:
        return cls(
            id=job.id,
            type=job.type,
            status=job.status,
            stage=job.stage,
            progress=min(max(job.progress or 0.0, 0.0), 1.0),
            total=job.total,
            completed=job.completed,
            result=job.result,
            error=job.error,
            attempts=job.attempts,
            createdAt=job.created_at,
            startedAt=job.started_at,
            finishedAt=job.finished_at,
        )


@router.get("", response_model=list[JobOut])
def list_endpoint(
    _principal: Viewer,
    session: TenantSession,
    status: Annotated[str | None, Query(description="Only jobs in this status")] = None,
    type: Annotated[str | None, Query(description="Only jobs of this type")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 50,
) -> list[JobOut]:
    wanted = parse_status(status) if status else None
    return [JobOut.of(job) for job in list_jobs(session, status=wanted, type=type, limit=limit)]


@router.get("/{job_id}", response_model=JobOut)
def get_endpoint(job_id: str, _principal: Viewer, session: TenantSession) -> JobOut:
    return JobOut.of(get_job(session, job_id=job_id))


@router.post("/{job_id}/cancel", response_model=JobOut)
def cancel_endpoint(job_id: str, _principal: Analyst, session: TenantSession) -> JobOut:
    job = cancel_job(session, job_id=job_id)
    out = JobOut.of(job)
    session.commit()
    return out
