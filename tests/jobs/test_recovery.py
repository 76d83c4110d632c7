"""Workers die: a job is retried or failed on the next start, never left running."""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from propensity.db import Database, utcnow
from propensity.jobs import (
    Job,
    JobQueue,
    enqueue_job,
    recover_interrupted_jobs,
    start_embedded_consumer,
)
from propensity.models import Role
from propensity.settings import Settings
from tests.factories import make_tenant_user
from tests.jobs import handlers  # noqa: F401 - registers the test handlers
from tests.jobs.support import (
    BACKENDS,
    enqueue,
    job_row,
    own_queue,
    settings_for,
    start_worker_process,
    wait_for,
    wait_for_status,
)

SLEEPY = {"steps": 40, "step_seconds": 0.1, "retry_step": 0.01}


@pytest.fixture
def tenant_id(database: Database, settings: Settings) -> int:
    return make_tenant_user(database, settings, role=Role.ANALYST).tenant_id


def _run_until_midway(
    cfg: Settings, database: Database, queue: JobQueue, job_id: str, log_path: Path
) -> subprocess.Popen[bytes]:
    worker = start_worker_process(cfg, queue, log_path)
    try:
        wait_for(
            lambda: job_row(database, job_id).completed >= 2 or worker.poll() is not None,
            timeout=30,
            what="the worker process to start the job",
        )
    except AssertionError:
        worker.kill()
        raise
    assert worker.poll() is None, log_path.read_text()
    return worker


def _kill(worker: subprocess.Popen[bytes]) -> None:
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)  # reaped: a zombie would still answer kill(pid, 0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_job_of_a_killed_worker_is_retried_and_completes(
    backend: str, settings: Settings, database: Database, tenant_id: int, tmp_path: Path
) -> None:
    cfg = settings_for(settings, backend)
    with own_queue(cfg, database) as queue:
        job_id = enqueue(database, tenant_id, "test.sleepy", **SLEEPY)
        worker = _run_until_midway(cfg, database, queue, job_id, tmp_path / "worker.log")
        _kill(worker)
        job = job_row(database, job_id)
        assert (job.status, job.attempts) == ("running", 1)  # what the kill left behind
        assert job.worker is not None and job.worker.endswith(f":{worker.pid}")

        report = recover_interrupted_jobs(database, cfg, queue=queue)
        assert report.requeued == [job_id] and report.failed == []
        job = job_row(database, job_id)
        assert (job.status, job.attempts) == ("queued", 1)
        assert job.error is not None and "stopped during attempt 1; retrying" in job.error

        with start_embedded_consumer(cfg, database=database, queue=queue, periodic=False):
            job = wait_for_status(database, job_id, "completed")
    assert job.attempts == 2 and job.result == {"steps": 40, "attempt": 2}
    assert job.error is None


def test_a_job_of_a_killed_worker_fails_after_its_last_attempt(
    settings: Settings, database: Database, tenant_id: int, tmp_path: Path
) -> None:
    cfg = settings_for(settings, "sqlite", job_max_attempts=1)
    with own_queue(cfg, database) as queue:
        job_id = enqueue(database, tenant_id, "test.sleepy", **SLEEPY)
        _kill(_run_until_midway(cfg, database, queue, job_id, tmp_path / "worker.log"))
        report = recover_interrupted_jobs(database, cfg, queue=queue)
    assert report.failed == [job_id] and report.requeued == []
    job = job_row(database, job_id)
    assert job.status == "failed" and job.finished_at is not None
    assert "stopped unexpectedly" in (job.error or "")
    assert "attempt 1 of 1" in (job.error or "")


def test_sigterm_stops_a_worker_gracefully_and_requeues_its_job(
    settings: Settings, database: Database, tenant_id: int, tmp_path: Path
) -> None:
    cfg = settings_for(settings, "sqlite")
    with own_queue(cfg, database) as queue:
        job_id = enqueue(database, tenant_id, "test.sleepy", **SLEEPY)
        log_path = tmp_path / "worker.log"
        worker = _run_until_midway(cfg, database, queue, job_id, log_path)
        worker.send_signal(signal.SIGTERM)
        try:
            assert worker.wait(timeout=15) == 0, log_path.read_text()
        finally:
            worker.kill()
        job = job_row(database, job_id)
        assert (job.status, job.attempts, job.worker) == ("queued", 0, None)
        assert queue.pending_count() == 1  # its message is back for the next worker


def test_stale_heartbeats_are_recovered_and_fresh_ones_left_alone(
    settings: Settings, database: Database, tenant_id: int
) -> None:
    cfg = settings_for(settings, "sqlite", job_stale_after_seconds=60)
    now = utcnow()
    with own_queue(cfg, database) as queue:
        stale = enqueue(database, tenant_id, "test.noop")
        fresh = enqueue(database, tenant_id, "test.noop")
        queue.huey.flush()
        with database.system_session() as session:
            for job_id, beat in ((stale, now - timedelta(minutes=5)), (fresh, now)):
                session.execute(
                    sa.update(Job)
                    .where(Job.id == job_id)
                    .values(
                        status="running", attempts=1, worker="elsewhere:4242", heartbeat_at=beat
                    )
                )
        report = recover_interrupted_jobs(database, cfg, queue=queue)
        assert report.requeued == [stale]
        assert job_row(database, fresh).status == "running"
        assert queue.waiting_job_ids() == {stale}


def test_queued_jobs_whose_message_was_lost_are_sent_again(
    settings: Settings, database: Database, tenant_id: int
) -> None:
    cfg = settings_for(settings, "sqlite", job_stale_after_seconds=10)
    with own_queue(cfg, database) as queue:
        with database.tenant_session(tenant_id) as session:
            lost = enqueue_job(session, type="test.noop", params={})
            lost.created_at = utcnow() - timedelta(minutes=1)
            kept = enqueue_job(session, type="test.noop", params={})
            kept.created_at = utcnow() - timedelta(minutes=1)
        queue.huey.flush()  # e.g. a Redis restarted without persistence
        queue.enqueue_run(kept.id)
        report = recover_interrupted_jobs(database, cfg, queue=queue)
        assert report.resent == [lost.id]
        assert queue.waiting_job_ids() == {lost.id, kept.id}
        assert queue.pending_count() == 2  # no duplicate for the one still queued
