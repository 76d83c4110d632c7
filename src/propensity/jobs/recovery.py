"""No job stays `running` (or `queued`) forever after a worker dies.

Run at every consumer start. A running job is interrupted when its worker is on this host
and its process is gone, or when its heartbeat is older than `job_stale_after_seconds`
(a worker on another machine, or a pid reused by an unrelated process). Interrupted jobs
go back to the queue while attempts remain, else fail with an explanation. Queued jobs
without a queue message (a crash between commit and enqueue, a Redis that lost its data)
are sent again.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from propensity.db import Database, utcnow
from propensity.jobs import chunks, store
from propensity.logs import get_logger
from propensity.models import Job, JobStatus
from propensity.settings import Settings

if TYPE_CHECKING:
    # The queue calls recovery periodically; recovery is handed the queue it repairs.
    from propensity.jobs.queue import JobQueue

log = get_logger(__name__)


@dataclass
class RecoveryReport:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    # A killed child its parent has not reaped yet is a zombie: dead for our purposes.
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _dead_on_this_host(worker: str | None) -> bool:
    host, _, pid = (worker or "").rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid))


def recover_interrupted_jobs(
    database: Database,
    settings: Settings,
    *,
    queue: JobQueue,
    resend_lost: bool = True,
) -> RecoveryReport:
    report = RecoveryReport()
    now = utcnow()
    stale_before = now - timedelta(seconds=settings.job_stale_after_seconds)
    parents_to_settle: set[str] = set()

    with database.system_session() as session:
        running = session.execute(
            sa.select(
                Job.id,
                Job.type,
                Job.worker,
                Job.attempts,
                Job.heartbeat_at,
                Job.params,
                Job.priority,
            )
            .where(Job.status == JobStatus.RUNNING.value)
            .order_by(Job.id)
        ).all()
        priorities = {job.id: int(job.priority or 0) for job in running}
        for job in running:
            same_run = sa.and_(
                Job.id == job.id,
                Job.status == JobStatus.RUNNING.value,
                Job.worker == job.worker,
                Job.attempts == job.attempts,
            )
            if job.worker == store.WAITING_FOR_CHUNKS:
                # Its chunks are recovered on their own; once none is left unfinished and
                # the parent still waits, the chunk that should have settled it died.
                if chunks.unfinished_count(session, job.id) == 0 and store.execute(
                    session, sa.update(Job).where(same_run).values(status=JobStatus.QUEUED.value)
                ):
                    report.requeued.append(job.id)
                continue
            stale = job.heartbeat_at is None or job.heartbeat_at < stale_before
            if not (stale or _dead_on_this_host(job.worker)):
                continue
            if job.attempts < settings.job_max_attempts:
                note = f"Worker {job.worker} stopped during attempt {job.attempts}; retrying"
                retry = sa.update(Job).where(same_run)
                retry = retry.values(status=JobStatus.QUEUED.value, worker=None, error=note)
                if store.execute(session, retry):
                    report.requeued.append(job.id)
            else:
                error = (
                    f"The worker running this job stopped unexpectedly ({job.worker}, attempt "
                    f"{job.attempts} of {settings.job_max_attempts}); giving up"
                )
                give_up = sa.update(Job).where(same_run)
                give_up = give_up.values(
                    status=JobStatus.FAILED.value, error=error, finished_at=now
                )
                if store.execute(session, give_up):
                    report.failed.append(job.id)
                    if chunks.is_chunk(job.type):
                        parents_to_settle.add(chunks.chunk_params(job.params)[0])

        queued_rows = (
            session.execute(
                sa.select(Job.id, Job.priority).where(
                    Job.status == JobStatus.QUEUED.value, Job.created_at < stale_before
                )
            ).all()
            if resend_lost
            else []
        )
        queued = [row.id for row in queued_rows]
        priorities.update({row.id: int(row.priority or 0) for row in queued_rows})

    waiting = queue.waiting_job_ids() if queued else set()
    skip = waiting | set(report.requeued)
    report.resent = [job_id for job_id in queued if job_id not in skip]
    for job_id in [*report.requeued, *report.resent]:
        queue.enqueue_run(job_id, priority=priorities.get(job_id, 0))
    for parent_id in parents_to_settle:
        queue.runner.advance_parent(parent_id)
    log.info(
        "jobs_recovered",
        requeued=len(report.requeued),
        failed=len(report.failed),
        resent=len(report.resent),
    )
    return report
