"""Row-level bookkeeping for job runs, each write fenced by the claim that owns the run.

A claim is (job id, worker, attempt). A run that was presumed dead and replaced can still
wake up (a long pause, a partition): its writes then match no row and are dropped, so a
job is only ever advanced or finished by the run that currently owns it. Every write is
its own short transaction in a system session: job rows are bookkeeping, not tenant data
the handler is working on.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import Database, UTCDateTime, utcnow
from propensity.models import Job, JobStatus

# `worker` of a parent job whose chunks are doing the work: no process owns it meanwhile.
WAITING_FOR_CHUNKS = "(chunks)"
ERROR_MAX_CHARS = 500

QUEUED = JobStatus.QUEUED.value
RUNNING = JobStatus.RUNNING.value


def worker_id() -> str:
    """host:pid, read per call: the pid differs in a forked child."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Claim:
    job_id: str
    worker: str
    attempt: int

    def owns(self) -> sa.ColumnElement[bool]:
        return sa.and_(
            Job.id == self.job_id,
            Job.status == RUNNING,
            Job.worker == self.worker,
            Job.attempts == self.attempt,
        )


@dataclass(frozen=True)
class ClaimedJob:
    claim: Claim
    type: str
    tenant_id: int
    params: dict[str, Any]
    total: int | None
    created_by: int | None
    priority: int = 0


def execute(session: Session, statement: sa.Executable) -> int:
    """Run an UPDATE/DELETE and return how many rows it touched."""
    result = session.execute(statement.execution_options(synchronize_session=False))
    return cast(sa.CursorResult[Any], result).rowcount


def _update(database: Database, where: sa.ColumnElement[bool], **values: Any) -> int:
    with database.system_session() as session:
        return execute(session, sa.update(Job).where(where).values(**values))


def _at(value: Any) -> sa.ColumnElement[Any]:
    # A typed literal, so SQLite stores it in the same format as ORM-written timestamps.
    return sa.literal(value, type_=UTCDateTime())


def claim(database: Database, job_id: str) -> ClaimedJob | None:
    """Atomically move a queued job to running for this worker; None if it is not queued.

    Duplicate queue messages (re-enqueued by recovery, retried by huey) are harmless: only
    one of them finds the row queued.
    """
    me, now = worker_id(), utcnow()
    with database.system_session() as session:
        claimed = execute(
            session,
            sa.update(Job)
            .where(Job.id == job_id, Job.status == QUEUED)
            .values(
                status=RUNNING,
                attempts=Job.attempts + 1,
                worker=me,
                started_at=sa.func.coalesce(Job.started_at, _at(now)),
                heartbeat_at=now,
            ),
        )
        if not claimed:
            return None
        row = session.execute(
            sa.select(
                Job.type,
                Job.tenant_id,
                Job.params,
                Job.total,
                Job.attempts,
                Job.created_by_user_id,
                Job.priority,
            ).where(Job.id == job_id)
        ).one()
    return ClaimedJob(
        claim=Claim(job_id, me, row.attempts),
        type=row.type,
        tenant_id=row.tenant_id,
        params=dict(row.params or {}),
        total=row.total,
        created_by=row.created_by_user_id,
        priority=int(row.priority or 0),
    )


def heartbeat(database: Database, claim: Claim) -> bool:
    return _update(database, claim.owns(), heartbeat_at=utcnow()) == 1


def record_progress(
    database: Database,
    claim: Claim,
    *,
    completed: int,
    total: int | None,
    stage: str | None,
    fraction: float,
) -> bool:
    values: dict[str, Any] = {"completed": completed, "progress": fraction}
    values["heartbeat_at"] = utcnow()
    if total is not None:
        values["total"] = total
    if stage is not None:
        values["stage"] = stage[:64]
    return _update(database, claim.owns(), **values) == 1


def status_of(database: Database, job_id: str) -> str | None:
    with database.system_session() as session:
        return session.scalar(sa.select(Job.status).where(Job.id == job_id))


def check_json(result: dict[str, Any] | None) -> None:
    """Raise TypeError/ValueError now rather than fail inside the commit."""
    if result is not None:
        json.dumps(result, allow_nan=False)


def _finish(database: Database, claim: Claim, status: JobStatus, **values: Any) -> bool:
    """Moves the claimed job to its final `status`; False when the claim was lost."""
    now = utcnow()
    return (
        _update(
            database,
            claim.owns(),
            status=status.value,
            **values,
            heartbeat_at=now,
            finished_at=now,
        )
        == 1
    )


def complete(database: Database, claim: Claim, result: dict[str, Any] | None) -> bool:
    return _finish(
        database,
        claim,
        JobStatus.COMPLETED,
        result=sa.null() if result is None else result,
        error=None,
        progress=1.0,
        completed=sa.case((Job.total.is_not(None), Job.total), else_=Job.completed),
    )


def fail(
    database: Database, claim: Claim, error: str, *, code: str | None = None, status: int = 500
) -> bool:
    """`code` and `status`: the core error's, kept in the result so a caller waiting for the
    job can answer as the request itself would have (422 INSUFFICIENT_DATA, say)."""
    result = {"error": {"code": code, "status": status}} if code is not None else sa.null()
    return _finish(database, claim, JobStatus.FAILED, error=error[:ERROR_MAX_CHARS], result=result)


def cancel(database: Database, claim: Claim) -> bool:
    """The handler cancelled itself (raised JobCancelled without a cancel request)."""
    return _finish(database, claim, JobStatus.CANCELLED)


def defer(database: Database, claim: Claim) -> bool:
    """Back to queued without counting the run: it did no work (JobDeferred). A job deferred
    at its first run also loses the start time the claim gave it."""
    return (
        _update(
            database,
            claim.owns(),
            status=QUEUED,
            worker=None,
            heartbeat_at=None,
            attempts=Job.attempts - 1,
            started_at=sa.case((Job.attempts <= 1, sa.null()), else_=Job.started_at),
        )
        == 1
    )


def requeue(database: Database, claim: Claim, *, error: str | None, refund_attempt: bool) -> bool:
    """Back to queued for another run. A refunded attempt (graceful shutdown) is not counted."""
    values: dict[str, Any] = {"status": QUEUED, "worker": None, "heartbeat_at": None}
    if error is not None:
        values["error"] = error[:ERROR_MAX_CHARS]
    if refund_attempt:
        values["attempts"] = Job.attempts - 1
    return _update(database, claim.owns(), **values) == 1
