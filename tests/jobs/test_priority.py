"""Queued jobs run by priority (higher first, equal ones in arrival order) on each storage."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from huey import RedisHuey

from propensity.db import Database
from propensity.errors import InvalidInput
from propensity.jobs import Job, JobQueue, enqueue_job, start_embedded_consumer
from propensity.settings import Settings
from tests.factories import make_tenant_user
from tests.jobs import handlers
from tests.jobs.support import REDIS_URL, settings_for, wait_for_status


@pytest.fixture
def tenant_id(database: Database, settings: Settings) -> int:
    assert handlers.GATES is not None  # the test.* job types are registered on import
    return make_tenant_user(database, settings).tenant_id


def _enqueue(
    database: Database, tenant_id: int, job_type: str, priority: int, **params: object
) -> str:
    with database.tenant_session(tenant_id) as session:
        return str(enqueue_job(session, type=job_type, params=params, priority=priority).id)


def test_queued_jobs_start_highest_priority_first(
    cfg: Settings, database: Database, queue: JobQueue, tenant_id: int
) -> None:
    sent = [("low", -10), ("normal-1", 0), ("high", 10), ("normal-2", 0)]
    ids = {name: _enqueue(database, tenant_id, "test.noop", p) for name, p in sent}
    # One worker thread, started after all four are queued: the start order is the queue's.
    with start_embedded_consumer(cfg, database=database, queue=queue, threads=1, periodic=False):
        done = {
            name: wait_for_status(database, job_id, "completed") for name, job_id in ids.items()
        }
    started = sorted(done, key=lambda name: done[name].started_at)  # type: ignore[arg-type, return-value]
    assert started == ["high", "normal-1", "normal-2", "low"]
    assert [done[name].priority for name in started] == [10, 0, 0, -10]


def test_chunks_run_at_their_parents_priority(
    cfg: Settings, database: Database, queue: JobQueue, tenant_id: int
) -> None:
    job_id = _enqueue(database, tenant_id, "test.sum", 7, numbers=list(range(10)), size=5)
    with start_embedded_consumer(cfg, database=database, queue=queue, periodic=False):
        parent = wait_for_status(database, job_id, "completed", "failed")
    assert parent.status == "completed" and parent.priority == 7
    with database.system_session() as session:
        chunk_priorities = session.scalars(
            sa.select(Job.priority).where(Job.type == "test.sum:chunk")
        ).all()
    assert chunk_priorities == [7, 7]


@pytest.mark.usefixtures("queue")
def test_a_priority_out_of_range_is_refused_and_stores_nothing(
    database: Database, tenant_id: int
) -> None:
    refused = pytest.raises(InvalidInput, match="priority must be between -100 and 100")
    with database.tenant_session(tenant_id) as session, refused:
        enqueue_job(session, type="test.noop", params={}, priority=101)
    with database.system_session() as session:
        assert session.scalars(sa.select(Job.id)).all() == []


@pytest.mark.skipif(not REDIS_URL, reason="PROPENSITY_TEST_REDIS_URL not set")
def test_a_redis_list_queue_from_before_priorities_is_moved_in_order(
    settings: Settings, database: Database
) -> None:
    name = f"propensity_test_{uuid.uuid4().hex[:12]}"
    legacy = RedisHuey(name, url=REDIS_URL, results=False)
    for message in (b"first", b"second", b"third"):
        legacy.storage.enqueue(message)
    queue = JobQueue(settings_for(settings, "redis"), database, name=name)
    try:
        assert queue.huey.storage.conn.type(queue.huey.storage.queue_key) == b"zset"
        assert queue.huey.storage.enqueued_items() == [b"first", b"second", b"third"]
    finally:
        queue.huey.flush()
        queue.close()
