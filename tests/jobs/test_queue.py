"""A real huey consumer (threads in this process) running real jobs on a real database."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
import sqlalchemy as sa

from propensity.db import Database
from propensity.errors import InvalidInput
from propensity.jobs import (
    Job,
    JobQueue,
    cancel_job,
    crontab,
    enqueue_job,
    periodic_task,
    start_embedded_consumer,
)
from propensity.jobs.consumer import _Scheduler
from propensity.models import Role
from propensity.settings import Settings
from tests.factories import make_tenant_user
from tests.jobs import handlers
from tests.jobs.support import (
    enqueue,
    job_row,
    own_queue,
    wait_for,
    wait_for_status,
)


@pytest.fixture
def one_queue(settings: Settings, database: Database) -> Iterator[JobQueue]:
    """For tests of what happens around a handler: the suite's storage is enough."""
    with own_queue(settings, database) as q:
        yield q


@pytest.fixture
def tenant_id(database: Database, settings: Settings) -> int:
    return make_tenant_user(database, settings, role=Role.ANALYST).tenant_id


def test_consumer_runs_a_job_and_stores_its_result(
    cfg: Settings, database: Database, queue: JobQueue, tenant_id: int
) -> None:
    gate = uuid.uuid4().hex
    handlers.GATES[gate] = threading.Event()
    job_id = enqueue(database, tenant_id, "test.gated", gate=gate, echo="hello")
    with start_embedded_consumer(cfg, database=database, queue=queue, periodic=False):
        running = wait_for_status(database, job_id, "running")
        mid = wait_for(lambda: (j := job_row(database, job_id)).stage == "halfway" and j)
        assert (mid.completed, mid.total, mid.progress) == (1, 2, 0.5)
        assert running.started_at is not None and running.worker
        handlers.GATES[gate].set()
        done = wait_for_status(database, job_id, "completed")
    assert done.result == {"echo": "hello"}
    assert (done.attempts, done.progress, done.completed, done.error) == (1, 1.0, 2, None)
    assert done.finished_at is not None and done.finished_at >= done.started_at  # type: ignore[operator]


def test_message_is_sent_only_after_commit(
    database: Database, queue: JobQueue, tenant_id: int
) -> None:
    with database.tenant_session(tenant_id) as session:
        job = enqueue_job(session, type="test.boom", params={})
        assert queue.pending_count() == 0
    assert queue.pending_count() == 1
    assert job_row(database, job.id).status == "queued"


def test_rolled_back_enqueue_leaves_no_row_and_no_message(
    cfg: Settings, database: Database, queue: JobQueue, tenant_id: int
) -> None:
    with start_embedded_consumer(cfg, database=database, queue=queue, periodic=False):
        with pytest.raises(RuntimeError), database.tenant_session(tenant_id) as session:
            enqueue_job(session, type="test.flaky", params={})
            raise RuntimeError("the request failed after enqueueing")
        # A later commit on a fresh transaction must not send the rolled-back job either.
        later = enqueue(database, tenant_id, "test.noop")
        wait_for_status(database, later, "completed")
    with database.system_session() as session:
        assert session.scalars(sa.select(Job.id)).all() == [later]
    assert queue.pending_count() == 0


def test_a_failing_handler_fails_the_job_with_a_readable_error(
    settings: Settings, database: Database, one_queue: JobQueue, tenant_id: int
) -> None:
    job_id = enqueue(database, tenant_id, "test.boom")
    with start_embedded_consumer(settings, database=database, queue=one_queue, periodic=False):
        job = wait_for_status(database, job_id, "failed")
    assert job.error == "ValueError: the input file has no 'customer_id' column"
    assert "Traceback" not in (job.error or "")
    assert job.attempts == 1 and job.result is None and job.finished_at is not None


def test_retry_on_error_retries_then_completes(
    cfg: Settings, database: Database, queue: JobQueue, tenant_id: int
) -> None:
    job_id = enqueue(database, tenant_id, "test.flaky")
    with start_embedded_consumer(cfg, database=database, queue=queue, periodic=False):
        job = wait_for_status(database, job_id, "completed")
    assert job.attempts == 2 and job.result == {"attempt": 2} and job.error is None


def test_cancelling_a_running_job_stops_its_handler(
    settings: Settings, database: Database, one_queue: JobQueue, tenant_id: int
) -> None:
    job_id = enqueue(database, tenant_id, "test.cancellable")
    with start_embedded_consumer(settings, database=database, queue=one_queue, periodic=False):
        wait_for(lambda: job_row(database, job_id).completed >= 2, what="the job to make progress")
        with database.tenant_session(tenant_id) as session:
            cancel_job(session, job_id=job_id)
        wait_for(lambda: job_id in handlers.SAW_CANCEL, what="the handler to see the cancel")
    job = job_row(database, job_id)
    assert job.status == "cancelled" and job.result is None and job.finished_at is not None
    assert job.completed < 10_000


def test_a_cancelled_queued_job_never_runs(
    cfg: Settings, database: Database, queue: JobQueue, tenant_id: int
) -> None:
    job_id = enqueue(database, tenant_id, "test.noop")
    with database.tenant_session(tenant_id) as session:
        cancel_job(session, job_id=job_id)
    with start_embedded_consumer(cfg, database=database, queue=queue, periodic=False):
        wait_for(lambda: queue.pending_count() == 0, what="the message to be consumed")
        canary = enqueue(database, tenant_id, "test.noop")
        wait_for_status(database, canary, "completed")
    job = job_row(database, job_id)
    assert (job.status, job.attempts, job.started_at) == ("cancelled", 0, None)


def test_stopping_the_consumer_requeues_a_running_job_without_counting_it(
    cfg: Settings, database: Database, queue: JobQueue, tenant_id: int
) -> None:
    job_id = enqueue(
        database, tenant_id, "test.sleepy", steps=20, step_seconds=0.05, retry_step=0.05
    )
    consumer = start_embedded_consumer(cfg, database=database, queue=queue, periodic=False)
    wait_for(lambda: job_row(database, job_id).completed >= 1, what="the job to start")
    consumer.stop(timeout=10)
    job = job_row(database, job_id)
    assert (job.status, job.attempts, job.worker) == ("queued", 0, None)
    with start_embedded_consumer(cfg, database=database, queue=queue, periodic=False):
        job = wait_for_status(database, job_id, "completed")
    assert job.attempts == 1 and job.result == {"steps": 20, "attempt": 1}


def test_handler_sessions_are_scoped_to_the_jobs_tenant(
    database: Database, one_queue: JobQueue, settings: Settings
) -> None:
    acme = make_tenant_user(database, settings, slug="acme").tenant_id
    globex = make_tenant_user(database, settings, slug="globex").tenant_id
    other = enqueue(database, globex, "test.boom")
    mine = enqueue(database, acme, "test.visible_jobs")
    with start_embedded_consumer(settings, database=database, queue=one_queue, periodic=False):
        job = wait_for_status(database, mine, "completed")
    assert job.result == {"ids": [mine]}
    assert job_row(database, other).tenant_id == globex


def test_chunked_job_retries_a_failed_chunk_and_combines_results(
    cfg: Settings, database: Database, queue: JobQueue, tenant_id: int
) -> None:
    numbers = list(range(1, 21))
    job_id = enqueue(database, tenant_id, "test.sum", numbers=numbers, size=5, fail_once=[2])
    with start_embedded_consumer(cfg, database=database, queue=queue, threads=3, periodic=False):
        parent = wait_for_status(database, job_id, "completed", "failed")
    assert parent.status == "completed", parent.error
    assert parent.result == {"total": 210, "chunks": 4}
    assert (parent.total, parent.completed, parent.progress, parent.attempts) == (4, 4, 1.0, 1)
    with database.system_session() as session:
        chunk_rows = session.scalars(
            sa.select(Job).where(Job.type == "test.sum:chunk").order_by(Job.id)
        ).all()
    assert [c.id for c in chunk_rows] == [f"{job_id}.{i:05d}" for i in range(4)]
    assert [c.attempts for c in chunk_rows] == [1, 1, 2, 1]
    assert [c.result for c in chunk_rows] == [{"sum": s} for s in (15, 40, 65, 90)]
    assert {c.status for c in chunk_rows} == {"completed"}


def test_a_chunk_that_keeps_failing_fails_the_parent(
    settings: Settings, database: Database, tenant_id: int
) -> None:
    cfg = settings.model_copy(update={"job_max_attempts": 2})
    with own_queue(cfg, database) as queue:
        job_id = enqueue(
            database, tenant_id, "test.sum", numbers=list(range(9)), size=3, always_fail=[1]
        )
        with start_embedded_consumer(cfg, database=database, queue=queue, periodic=False):
            parent = wait_for_status(database, job_id, "failed")
    assert parent.error == "Chunk 2 of 3 failed: ValueError: this chunk's rows are corrupt"
    assert job_row(database, f"{job_id}.00001").attempts == 2


@pytest.mark.usefixtures("one_queue")
def test_unknown_job_types_and_non_json_params_are_rejected(
    database: Database, tenant_id: int
) -> None:
    with database.tenant_session(tenant_id) as session:
        with pytest.raises(InvalidInput, match=r"Unknown job type 'no\.such'"):
            enqueue_job(session, type="no.such", params={})
        with pytest.raises(InvalidInput, match="params must be JSON"):
            enqueue_job(session, type="test.boom", params={"when": datetime(2024, 1, 1)})


def test_a_periodic_task_fires_once_per_minute_across_consumers(
    cfg: Settings, database: Database, queue: JobQueue
) -> None:
    periodic_task("test.tick", schedule=crontab(minute="7"))(handlers.record_periodic_run)
    queue.register_periodic()
    schedulers = [
        _Scheduler(queue.huey, threading.Event(), interval=1, periodic=True) for _ in range(2)
    ]
    for scheduler in schedulers:  # two consumers' schedulers in the same minute
        scheduler.enqueue_periodic_tasks(datetime(2030, 1, 1, 2, 7, 30))
    for scheduler in schedulers:  # a minute the crontab does not match
        scheduler.enqueue_periodic_tasks(datetime(2030, 1, 1, 2, 8, 0))
    assert [task.name for task in queue.huey.pending()] == ["test.tick"]
    handlers.PERIODIC_RUNS.clear()
    with start_embedded_consumer(cfg, database=database, queue=queue, periodic=False):
        wait_for(lambda: handlers.PERIODIC_RUNS, what="the periodic task to run")
    assert [cfg.resolved_database_url] == handlers.PERIODIC_RUNS
    # 02:05: only the built-in recovery (every five minutes) is due, whatever else is declared.
    schedulers[0].enqueue_periodic_tasks(datetime(2030, 1, 1, 2, 5, 0))
    assert [task.name for task in queue.huey.pending()] == ["jobs.recover"]  # built in
