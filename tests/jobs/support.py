"""Helpers for job tests: a queue of its own per test, bounded polling, worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa

from propensity.db import Database
from propensity.jobs import Job, JobQueue, bind_queue, enqueue_job
from propensity.settings import Settings
from tests.conftest import REDIS_URL, TEST_SECRET

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parents[2]

# Every queue test runs on SQLite storage, and on Redis too when the test script gives one.
BACKENDS = [
    pytest.param("sqlite", id="huey-sqlite"),
    pytest.param(
        "redis",
        id="huey-redis",
        marks=pytest.mark.skipif(not REDIS_URL, reason="PROPENSITY_TEST_REDIS_URL not set"),
    ),
]


def settings_for(settings: Settings, backend: str, **overrides: Any) -> Settings:
    redis_url = REDIS_URL if backend == "redis" else None
    return settings.model_copy(update={"redis_url": redis_url, **overrides})


@contextmanager
def own_queue(settings: Settings, database: Database) -> Iterator[JobQueue]:
    """A uniquely named queue, so parallel tests sharing one Redis never see each other's
    messages; emptied and closed afterwards."""
    queue = JobQueue(settings, database, name=f"propensity_test_{uuid.uuid4().hex[:12]}")
    bind_queue(database, queue)
    try:
        yield queue
    finally:
        queue.huey.flush()
        queue.close()


def wait_for(probe: Callable[[], T | None], *, timeout: float = 15.0, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


def job_row(database: Database, job_id: str) -> Job:
    with database.system_session() as session:
        job = session.scalar(sa.select(Job).where(Job.id == job_id))
        assert job is not None, f"no job {job_id}"
        return job


def wait_for_status(database: Database, job_id: str, *statuses: str, timeout: float = 15.0) -> Job:
    def probe() -> Job | None:
        job = job_row(database, job_id)
        return job if job.status in statuses else None

    return wait_for(probe, timeout=timeout, what=f"job {job_id} to be {'/'.join(statuses)}")


def enqueue(database: Database, tenant_id: int, job_type: str, **params: Any) -> str:
    with database.tenant_session(tenant_id) as session:
        return str(enqueue_job(session, type=job_type, params=params).id)


def start_worker_process(
    settings: Settings, queue: JobQueue, log_path: Path
) -> subprocess.Popen[bytes]:
    """`python -m propensity.jobs` configured only through the environment, like production."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
        "PROPENSITY_ENVIRONMENT": "test",
        "PROPENSITY_HOME": str(settings.home),
        "PROPENSITY_DATABASE_URL": settings.resolved_database_url,
        "PROPENSITY_REDIS_URL": settings.redis_url or "",
        "PROPENSITY_SECRET_KEY": TEST_SECRET,
        "PROPENSITY_JOB_MAX_ATTEMPTS": str(settings.job_max_attempts),
        "PROPENSITY_JOB_STALE_AFTER_SECONDS": str(settings.job_stale_after_seconds),
        "PROPENSITY_LOG_LEVEL": "INFO",
    }
    command = [
        sys.executable,
        "-m",
        "propensity.jobs",
        "--import",
        "tests.jobs.handlers",
        "--queue-name",
        queue.name,
        "--threads",
        "1",
        "--no-periodic",
    ]
    log_file = log_path.open("wb")
    # cwd outside the repo: a developer's .env must not leak into the worker's settings.
    return subprocess.Popen(
        command, env=env, cwd=log_path.parent, stdout=log_file, stderr=subprocess.STDOUT
    )
