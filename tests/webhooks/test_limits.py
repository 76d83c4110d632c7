"""Webhooks never stall other work: a deadline per attempt, limited delivery threads.

The receivers are real sockets on 127.0.0.1 and the jobs run on a real consumer."""

from __future__ import annotations

import itertools
import random
import socket
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from propensity.db import Database
from propensity.jobs import Job, JobDeferred, start_embedded_consumer
from propensity.models import Role
from propensity.settings import Settings
from propensity.training.tasks import TRAIN_MODEL
from propensity.webhooks.deadline import Deadline, DeadlineExceeded
from propensity.webhooks.delivery import deadline_error, deliver
from propensity.webhooks.events import DELIVER_JOB, emit_event
from propensity.webhooks.limits import (
    MAX_DEFER_SECONDS,
    MIN_DEFER_SECONDS,
    SLOTS,
    DeliverySlots,
    defer_delay,
    delivery_threads,
)
from propensity.webhooks.service import create_subscription, send_test
from tests.factories import make_simulated_tenant, make_tenant_user
from tests.jobs.support import enqueue, job_row, own_queue, wait_for, wait_for_status
from tests.webhooks.receiver import running_receiver
from tests.webhooks.support import all_finished, attempts, deliveries, fast_settings, subscribe
from tests.webhooks.tarpit import Tarpit, running_tarpit

DEADLINE = 2.0


@pytest.fixture
def tenant_id(database: Database, settings: Settings) -> int:
    return make_tenant_user(database, settings, role=Role.ADMIN).tenant_id


@pytest.fixture
def tarpit() -> Iterator[Tarpit]:
    with running_tarpit(interval=1.0) as found:
        yield found


def subscribe_tarpit(database: Database, settings: Settings, tenant_id: int, tarpit: Tarpit) -> int:
    with database.tenant_session(tenant_id) as session:
        sub, _secret = create_subscription(
            session, url=tarpit.url(), events=["churn.alert"], created_by=None, settings=settings
        )
        return int(sub.id)


def delivery_jobs(database: Database) -> list[Job]:
    with database.system_session() as session:
        return list(session.scalars(sa.select(Job).where(Job.type == DELIVER_JOB)))


def test_slots_limit_each_tenant_and_leave_a_consumer_thread_free() -> None:
    assert [delivery_threads(n) for n in (1, 2, 3, 8)] == [1, 1, 2, 7]
    slots = DeliverySlots()
    limits = {"per_tenant": 1, "total": delivery_threads(3)}
    assert slots.try_acquire(1, **limits) is None
    assert slots.try_acquire(1, **limits) == "tenant 1 already has 1 delivery(ies) in flight"
    assert slots.try_acquire(2, **limits) is None
    assert slots.try_acquire(3, **limits) == "all 2 delivery thread(s) of this worker are busy"
    slots.release(1)
    assert slots.try_acquire(3, **limits) is None
    assert (slots.in_flight(), slots.in_flight(1), slots.in_flight(3)) == (2, 0, 1)

    # A refused slot defers the job; a slot is given back when the block ends, however.
    with (
        pytest.raises(JobDeferred) as refused,
        slots.slot(2, per_tenant=1, total=2, defer_seconds=1.5),
    ):
        pass
    assert refused.value.delay_seconds == 1.5
    with pytest.raises(RuntimeError), slots.slot(4, per_tenant=1, total=3):
        raise RuntimeError("the delivery broke")
    assert slots.in_flight(4) == 0 and slots.in_flight() == 2


def test_the_deferral_delay_grows_with_the_backlog_and_is_bounded() -> None:
    rng = random.Random(5)
    assert all(0.75 * MIN_DEFER_SECONDS <= defer_delay(0, rng=rng) <= 1.25 for _ in range(50))
    assert 0.75 * 25 <= defer_delay(100, rng=rng) <= 1.25 * 25
    assert defer_delay(10**6, rng=rng) <= 1.25 * MAX_DEFER_SECONDS
    assert len({round(defer_delay(40, rng=rng), 6) for _ in range(10)}) == 10  # jittered


def test_an_attempt_to_a_tarpit_ends_at_its_deadline_and_is_retried(
    settings: Settings, database: Database, tenant_id: int, tarpit: Tarpit
) -> None:
    # The per-read timeout (10 s) is longer than the tarpit's byte interval: only the
    # deadline can end this attempt.
    cfg = fast_settings(settings, webhook_timeout_seconds=10.0, webhook_deadline_seconds=DEADLINE)
    with own_queue(cfg, database) as queue:
        subscribe_tarpit(database, cfg, tenant_id, tarpit)
        with database.tenant_session(tenant_id) as session:
            emit_event(session, type="churn.alert", data={"n": 1})
        (delivery,) = deliveries(database)
        started = time.monotonic()
        result = deliver(database, cfg, tenant_id=tenant_id, delivery_id=delivery.id)
        took = time.monotonic() - started
        # Attempt 1's job, and the retry its failure scheduled with the usual backoff.
        assert queue.pending_count() == 2
        # The tarpit sees the connection closed (at its next byte, at most a second later).
        _, _, ended = wait_for(lambda: tarpit.snapshot()[2] and tarpit.snapshot(), what="close")

    assert DEADLINE <= took < DEADLINE + 1.0
    assert result["status"] == "pending" and result["error"] == deadline_error(DEADLINE)
    assert result["error"] == "Deadline exceeded: no answer within 2 s"
    (attempt,) = attempts(database, delivery.id)
    assert (attempt.ok, attempt.status_code, attempt.error) == (False, None, deadline_error(2))
    # Cut at the deadline, not at a per-read timeout (10 s) nor by the receiver.
    assert attempt.duration_ms is not None and 1990 <= attempt.duration_ms < 2500
    (row,) = deliveries(database)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, deadline_error(2))
    assert row.next_attempt_at is not None
    (closed_after, bytes_sent) = ended[0]
    assert closed_after < DEADLINE + 2.5 and 1 <= bytes_sent <= 4


def test_a_delivery_without_a_slot_is_deferred_without_spending_an_attempt(
    settings: Settings, database: Database, tenant_id: int
) -> None:
    cfg = fast_settings(settings)
    with running_receiver() as receiver, own_queue(cfg, database) as queue:
        subscribe(database, cfg, tenant_id, receiver)
        # Another delivery of the tenant holds its only slot in this process.
        assert SLOTS.try_acquire(tenant_id, per_tenant=1, total=1) is None
        try:
            with database.tenant_session(tenant_id) as session:
                event = emit_event(session, type="churn.alert", data={"n": 1})
            assert event is not None
            with start_embedded_consumer(cfg, database=database, queue=queue, periodic=False):
                time.sleep(2.5)  # long enough for the job to be tried and deferred
                (job,) = delivery_jobs(database)
                (waiting,) = deliveries(database)
                assert receiver.requests() == []
                assert (job.status, job.attempts, job.started_at) == ("queued", 0, None)
                assert (waiting.status, waiting.attempts) == ("pending", 0)
                assert attempts(database, waiting.id) == []
            SLOTS.release(tenant_id)
            with start_embedded_consumer(cfg, database=database, queue=queue, periodic=False):
                (done,) = wait_for(lambda: all_finished(database, 1), timeout=15, what="delivery")
                finished = wait_for_status(database, job.id, "completed")
        finally:
            if SLOTS.in_flight(tenant_id):
                SLOTS.release(tenant_id)
    assert receiver.accepted == [event.id]
    assert (done.status, done.attempts) == ("delivered", 1)
    assert finished.attempts == 1  # the deferred runs were not counted


def test_a_tarpit_of_one_tenant_does_not_stall_another_tenants_training(
    settings: Settings, database: Database, tenant_id: int, tarpit: Tarpit
) -> None:
    # Tenant A: a tarpit receiver, three alerts and two test pings pending, one attempt each.
    cfg = fast_settings(
        settings,
        webhook_timeout_seconds=10.0,
        webhook_deadline_seconds=DEADLINE,
        webhook_max_attempts=1,
        webhook_disable_after_failures=10,
        worker_threads=2,
    )
    trainer = make_simulated_tenant(database, cfg, slug="busy", leads=1200)
    with own_queue(cfg, database) as queue:
        sid = subscribe_tarpit(database, cfg, tenant_id, tarpit)
        for n in range(3):
            with database.tenant_session(tenant_id) as session:
                emit_event(session, type="churn.alert", data={"n": n})
        for _ in range(2):
            with database.tenant_session(tenant_id) as session:
                send_test(session, subscription_id=sid)
        # Tenant B's training, queued after the deliveries and below their priority.
        job_id = enqueue(database, trainer.tenant_id, TRAIN_MODEL, predictionType="CONVERSION")
        queued_at = time.monotonic()
        with start_embedded_consumer(cfg, database=database, queue=queue, periodic=False):
            wait_for_status(database, job_id, "running", "completed", "failed", timeout=10)
            waited = time.monotonic() - queued_at
            job = wait_for_status(database, job_id, "completed", "failed", timeout=45)
            trained = time.monotonic() - queued_at
            rows = wait_for(lambda: all_finished(database, 5), timeout=30, what="deliveries")
        connections, most_in_flight, _ = tarpit.snapshot()

    print(f"\ntraining started after {waited:.2f} s and finished after {trained:.2f} s")
    assert job.status == "completed", job.error
    assert waited < 3.0  # promptly, though five deliveries were queued ahead of it
    # One delivery of tenant A at a time, each ended at its deadline and recorded as failed.
    assert most_in_flight == 1 and connections == 5
    assert [(d.status, d.attempts) for d in rows] == [("failed", 1)] * 5
    spans = []
    for delivery in rows:
        (attempt,) = attempts(database, delivery.id)
        assert attempt.error == deadline_error(DEADLINE)
        assert attempt.duration_ms is not None and attempt.duration_ms < DEADLINE * 1000 + 1000
        assert attempt.started_at is not None and attempt.finished_at is not None
        spans.append((attempt.started_at, attempt.finished_at))
    spans.sort()
    assert all(end <= start for (_, end), (start, _) in itertools.pairwise(spans))
    # Deferred runs gave their attempt back: each delivery job ran its one attempt once.
    assert [j.attempts for j in delivery_jobs(database)] == [1] * 5
    assert job_row(database, job_id).attempts == 1


def test_the_deadline_wakes_a_socket_blocked_without_a_timeout_and_bounds_name_lookups() -> None:
    # What a per-operation timeout cannot bound (a TLS handshake fed a byte at a time): the
    # watchdog shuts the socket down at the deadline and the blocked read returns.
    left, right = socket.socketpair()
    with left, right, Deadline(0.5) as deadline:
        deadline.watch(left)
        left.settimeout(5.0)  # a per-operation timeout far beyond the deadline
        started = time.monotonic()
        assert left.recv(1) == b""
        assert 0.4 <= time.monotonic() - started < 1.5
        assert deadline.expired
    with Deadline(0.3) as deadline:
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            deadline.call(lambda: time.sleep(1.5))  # a resolver that hangs
        assert time.monotonic() - started < 1.0
