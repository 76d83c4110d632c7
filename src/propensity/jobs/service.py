"""Creating, reading and cancelling jobs from request code (tenant-scoped sessions).

A job is enqueued only after the transaction that created its row commits: a worker can
never pick up a job whose row it cannot see, and a rolled-back request leaves neither a
row nor a message.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from propensity.db import utcnow
from propensity.errors import Conflict, InvalidInput, NotFound
from propensity.jobs import chunks, registry, store
from propensity.jobs.queue import JobQueue, queue_for_session
from propensity.logs import get_logger
from propensity.models import Job, JobStatus

log = get_logger(__name__)

_PENDING = "propensity.jobs.pending"
MAX_LIST_LIMIT = 200
# Higher runs first among queued jobs; 0 is the default of every job.
MIN_PRIORITY = -100
MAX_PRIORITY = 100


def enqueue_job(
    session: Session,
    *,
    type: str,
    params: Mapping[str, Any],
    total: int | None = None,
    created_by: int | None = None,
    priority: int = 0,
    delay_seconds: float = 0.0,
) -> Job:
    """Create a queued job row in the caller's transaction (the session's tenant owns it);
    the queue message is sent when that transaction commits, and never if it rolls back.
    `priority` orders queued jobs (higher first); running jobs are never preempted.
    `delay_seconds` holds the message in the queue's schedule that long after the commit
    (a retry with backoff); recovery sees scheduled messages, so it does not re-send them."""
    if registry.lookup(type) is None or chunks.is_chunk(type):
        raise InvalidInput(f"Unknown job type '{type}'")
    try:
        json.dumps(dict(params), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"Job params must be JSON: {exc}") from exc
    if total is not None and total < 0:
        raise InvalidInput("total must be zero or more")
    if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise InvalidInput(f"priority must be between {MIN_PRIORITY} and {MAX_PRIORITY}")
    if delay_seconds < 0:
        raise InvalidInput("delay_seconds must be zero or more")
    queue = queue_for_session(session)
    job = Job(
        id=uuid.uuid4().hex,
        type=type,
        status=JobStatus.QUEUED.value,
        params=dict(params),
        total=total,
        created_by_user_id=created_by,
        priority=priority,
    )
    session.add(job)
    session.flush()  # stamps the tenant now, and begins the transaction we attach to
    root = session.get_transaction()
    assert root is not None
    session.info.setdefault(_PENDING, []).append((root, queue, job.id, priority, delay_seconds))
    log.info("job_created", job_id=job.id, job_type=type, tenant_id=job.tenant_id)
    return job


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released; the outer transaction may still roll back
    pending: list[tuple[SessionTransaction, JobQueue, str, int, float]] = session.info.pop(
        _PENDING, []
    )
    committed = session.get_transaction()
    for root, queue, job_id, priority, delay in pending:
        if root is not committed:
            continue  # left over from a transaction that ended without commit
        try:
            queue.enqueue_run(job_id, delay, priority)
        except Exception:
            # The row stays queued; recovery at the next consumer start sends it again.
            log.exception("job_enqueue_failed", job_id=job_id)


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous: SessionTransaction) -> None:
    # A savepoint rollback keeps the list: a job row it removed is just not found later.
    if previous.parent is None:
        session.info.pop(_PENDING, None)


def get_job(session: Session, *, job_id: str) -> Job:
    job = session.scalar(sa.select(Job).where(Job.id == job_id))
    if job is None:
        raise NotFound("Job not found", code="JOB_NOT_FOUND", details={"jobId": job_id})
    return job


def parse_status(value: str) -> JobStatus:
    try:
        return JobStatus(value.strip().lower())
    except ValueError:
        choices = ", ".join(s.value for s in JobStatus)
        raise InvalidInput(f"status must be one of {choices}") from None


def list_jobs(
    session: Session,
    *,
    status: JobStatus | None = None,
    type: str | None = None,
    limit: int = 50,
) -> list[Job]:
    """Newest first. Chunk rows are internal and listed only when asked for by type."""
    query = sa.select(Job).order_by(Job.created_at.desc(), Job.id.desc())
    if status is not None:
        query = query.where(Job.status == status.value)
    if type:
        query = query.where(Job.type == type)
    else:
        query = query.where(Job.type.not_like(f"%{registry.CHUNK_SUFFIX}"))
    return list(session.scalars(query.limit(max(1, min(limit, MAX_LIST_LIMIT)))))


def cancel_job(session: Session, *, job_id: str) -> Job:
    """Cancel a queued or running job (and a chunked job's unfinished chunks).

    A queued job never starts; a running handler stops at its next progress() call.
    The caller commits.
    """
    job = get_job(session, job_id=job_id)
    cancelled = store.execute(
        session,
        sa.update(Job)
        .where(Job.id == job_id, Job.status.in_(chunks.UNFINISHED))
        .values(status=JobStatus.CANCELLED.value, finished_at=utcnow()),
    )
    session.refresh(job)
    if not cancelled:
        raise Conflict(f"Job is already {job.status}", code="JOB_FINISHED")
    chunks.cancel_unfinished(session, job_id)
    log.info("job_cancel_requested", job_id=job_id)
    return job
