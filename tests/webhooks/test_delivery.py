"""Deliveries through a real consumer to a real receiver on 127.0.0.1."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from propensity.db import Database
from propensity.jobs import Job, JobQueue, start_embedded_consumer
from propensity.models import Role, WebhookDelivery, WebhookEvent
from propensity.settings import Settings
from propensity.webhooks.delivery import INTERRUPTED, deliver
from propensity.webhooks.events import emit_event
from propensity.webhooks.service import create_subscription, update_subscription
from tests.factories import make_tenant_user
from tests.jobs.support import own_queue, wait_for
from tests.webhooks.receiver import running_receiver
from tests.webhooks.support import (
    all_finished,
    attempts,
    deliveries,
    fast_settings,
    subscribe,
    subscription,
)


@pytest.fixture
def cfg_fast(settings: Settings) -> Settings:
    return fast_settings(settings)


@pytest.fixture
def queue(cfg_fast: Settings, database: Database) -> Iterator[JobQueue]:
    with own_queue(cfg_fast, database) as q:
        yield q


@pytest.fixture
def tenant_id(database: Database, settings: Settings) -> int:
    return make_tenant_user(database, settings, role=Role.ADMIN).tenant_id


def emit(database: Database, tenant_id: int, type: str, **data: object) -> str | None:
    with database.tenant_session(tenant_id) as session:
        event = emit_event(session, type=type, data=data)
        return None if event is None else event.id


def test_signed_events_arrive_exactly_once_after_failures_and_every_attempt_is_logged(
    cfg_fast: Settings, database: Database, queue: JobQueue, tenant_id: int
) -> None:
    with running_receiver() as receiver:
        subscribe(database, cfg_fast, tenant_id, receiver)
        ids = [emit(database, tenant_id, "churn.alert", n=n) for n in range(3)]
        assert emit(database, tenant_id, "prediction.created", n=9) is None  # not subscribed
        # Per event: with one shared list, a loaded machine could retry one event through all
        # the failures (its four attempts) before the others were first sent.
        receiver.plan_by_event = {
            str(ids[0]): ["500", "timeout"],
            str(ids[1]): ["500"],
            str(ids[2]): ["500"],
        }
        with start_embedded_consumer(cfg_fast, database=database, queue=queue, periodic=False):
            rows = wait_for(lambda: all_finished(database, 3), timeout=40, what="deliveries")
        # A stalled request is recorded when its stall ends, after the sender gave up on it.
        total = sum(d.attempts for d in rows)
        requests = wait_for(
            lambda: len(found := receiver.requests()) == total and found, what="stalled request"
        )

    assert all(r.signature_ok for r in requests)
    assert Counter(receiver.accepted) == Counter(ids)  # each event accepted exactly once
    assert {d.status for d in rows} == {"delivered"}
    # Four failures spread over the three deliveries: 3 + 4 requests = 7 attempts.
    assert total == len(requests) == 7
    for delivery in rows:
        log = attempts(database, delivery.id)
        assert [a.number for a in log] == list(range(1, delivery.attempts + 1))
        assert [a.ok for a in log] == [False] * (len(log) - 1) + [True]
        assert all(a.finished_at is not None and a.duration_ms is not None for a in log)
        for failed in log[:-1]:
            assert failed.status_code == 500 or failed.error == "Timed out after 0.5 s"
        sent = [r for r in requests if r.event_id == delivery.event_id]
        # Same event id on every retry (a stalled request is recorded when its stall ends).
        assert sorted(r.attempt for r in sent) == [a.number for a in log]
        assert all(r.body["id"] == delivery.event_id for r in sent)
        assert (delivery.last_status_code, delivery.delivered_at is not None) == (200, True)
    body = requests[-1].body
    assert set(body) == {"id", "type", "tenant", "createdAt", "data"}
    assert body["type"] == "churn.alert"
    assert body["tenant"] == {"id": tenant_id, "slug": "acme"}


def test_a_rolled_back_emission_writes_and_sends_nothing(
    cfg_fast: Settings, database: Database, queue: JobQueue, tenant_id: int
) -> None:
    with running_receiver() as receiver:
        subscribe(database, cfg_fast, tenant_id, receiver)
        with database.session(tenant_id=tenant_id) as session:
            assert emit_event(session, type="model.trained", data={"x": 1}) is not None
            session.rollback()
        assert queue.pending_count() == 0
        with start_embedded_consumer(cfg_fast, database=database, queue=queue, periodic=False):
            time.sleep(1.5)
        assert receiver.requests() == []
    with database.system_session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_a_subscription_that_keeps_failing_is_disabled_with_the_reason(
    settings: Settings, database: Database, tenant_id: int
) -> None:
    cfg = fast_settings(settings, webhook_max_attempts=2)
    with running_receiver(fallback="500") as receiver, own_queue(cfg, database) as queue:
        sid = subscribe(database, cfg, tenant_id, receiver)
        emit(database, tenant_id, "churn.alert", n=1)
        emit(database, tenant_id, "churn.alert", n=2)
        with start_embedded_consumer(cfg, database=database, queue=queue, periodic=False):
            rows = wait_for(lambda: all_finished(database, 2), timeout=30, what="deliveries")
        assert len(receiver.requests()) == 4
    assert [(d.status, d.attempts, d.last_status_code) for d in rows] == [("failed", 2, 500)] * 2
    disabled = subscription(database, sid)
    assert (disabled.active, disabled.consecutive_failures) == (False, 2)
    assert (
        disabled.disabled_reason
        == "Disabled after 2 failed deliveries in a row (each tried 2 times)"
    )
    assert emit(database, tenant_id, "churn.alert", n=3) is None  # nothing queued any more


def test_a_private_address_is_refused_at_delivery_time_too(
    settings: Settings, database: Database, tenant_id: int
) -> None:
    allowed = fast_settings(settings)
    strict = fast_settings(settings, webhook_allow_private_addresses=False, webhook_max_attempts=1)
    with running_receiver() as receiver, own_queue(strict, database):
        subscribe(database, allowed, tenant_id, receiver)  # allowed when it was saved
        emit(database, tenant_id, "model.trained", version=1)
        (delivery,) = deliveries(database)
        result = deliver(database, strict, tenant_id=tenant_id, delivery_id=delivery.id)
        assert receiver.requests() == []
    assert result["status"] == "failed"
    (attempt,) = attempts(database, delivery.id)
    assert attempt.error is not None and attempt.error.startswith("Refused: url host '127.0.0.1'")


def test_a_delivered_event_is_never_sent_again_and_an_interrupted_attempt_is_logged(
    cfg_fast: Settings, database: Database, queue: JobQueue, tenant_id: int
) -> None:
    with running_receiver() as receiver:
        subscribe(database, cfg_fast, tenant_id, receiver)
        event_id = emit(database, tenant_id, "model.trained", version=3)
        (delivery,) = deliveries(database)
        # A worker that died mid-request left attempt 1 in flight.
        with database.tenant_session(tenant_id) as session:
            row = session.get(WebhookDelivery, delivery.id)
            assert row is not None
            row.status, row.attempts = "sending", 1
            from propensity.models import WebhookAttempt

            session.add(WebhookAttempt(delivery_id=delivery.id, number=1))
        first = deliver(database, cfg_fast, tenant_id=tenant_id, delivery_id=delivery.id)
        again = deliver(database, cfg_fast, tenant_id=tenant_id, delivery_id=delivery.id)
        assert receiver.accepted == [event_id]
    assert (first["status"], first["attempt"]) == ("delivered", 2)
    assert again == {"deliveryId": delivery.id, "skipped": "delivered"}
    log = attempts(database, delivery.id)
    assert [(a.number, a.ok, a.error) for a in log] == [(1, False, INTERRUPTED), (2, True, None)]


def test_a_named_host_is_reached_at_its_checked_address_under_its_name(
    cfg_fast: Settings, database: Database, queue: JobQueue, tenant_id: int
) -> None:
    with running_receiver() as receiver:
        with database.tenant_session(tenant_id) as session:
            _sub, secret = create_subscription(
                session,
                url=receiver.url("/named", host="localhost"),
                events=["model.trained"],
                created_by=None,
                settings=cfg_fast,
            )
        receiver.secrets["/named"] = secret
        event_id = emit(database, tenant_id, "model.trained", version=7)
        (delivery,) = deliveries(database)
        result = deliver(database, cfg_fast, tenant_id=tenant_id, delivery_id=delivery.id)
        (request,) = receiver.requests()
    assert result["status"] == "delivered"
    assert (request.event_id, request.signature_ok) == (event_id, True)
    assert request.host == f"localhost:{receiver.port}"


def test_deliveries_of_a_disabled_subscription_are_cancelled_not_sent(
    cfg_fast: Settings, database: Database, queue: JobQueue, tenant_id: int
) -> None:
    with running_receiver() as receiver:
        sid = subscribe(database, cfg_fast, tenant_id, receiver)
        emit(database, tenant_id, "churn.alert", n=1)
        with database.tenant_session(tenant_id) as session:
            update_subscription(
                session,
                subscription_id=sid,
                url=None,
                events=None,
                description=None,
                active=False,
                settings=cfg_fast,
            )
        (delivery,) = deliveries(database)
        result = deliver(database, cfg_fast, tenant_id=tenant_id, delivery_id=delivery.id)
        assert receiver.requests() == []
    assert result == {"deliveryId": delivery.id, "skipped": "cancelled"}
    (cancelled,) = deliveries(database)
    assert (cancelled.status, cancelled.attempts) == ("cancelled", 0)
    assert cancelled.last_error == "Not sent: Disabled by a user"
