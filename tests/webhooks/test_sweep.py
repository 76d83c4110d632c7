"""A delivery whose job ended without finishing it is sent again by the periodic sweep."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from propensity.db import Database, utcnow
from propensity.jobs import Job, JobQueue, start_embedded_consumer
from propensity.jobs.registry import discover_handlers, periodic_specs
from propensity.models import Role, WebhookAttempt, WebhookDelivery
from propensity.settings import Settings
from propensity.webhooks.events import emit_event
from propensity.webhooks.sweep import STRANDED_AFTER, resend_stranded
from tests.factories import make_tenant_user
from tests.jobs.support import own_queue, wait_for
from tests.webhooks.receiver import running_receiver
from tests.webhooks.support import all_finished, attempts, fast_settings, subscribe


@pytest.fixture
def cfg_fast(settings: Settings) -> Settings:
    return fast_settings(settings)


@pytest.fixture
def queue(cfg_fast: Settings, database: Database) -> Iterator[JobQueue]:
    with own_queue(cfg_fast, database) as q:
        yield q


def _strand(database: Database, tenant_id: int, *, status: str) -> None:
    """What a job that gave up outside the HTTP call leaves: its delivery unfinished and
    untouched for a while (`sending`: with its first attempt begun and never finished), and
    the job itself failed."""
    long_ago = utcnow() - STRANDED_AFTER - timedelta(minutes=1)
    with database.tenant_session(tenant_id) as session:
        delivery = session.scalars(sa.select(WebhookDelivery)).one()
        if status == "sending":
            session.add(WebhookAttempt(delivery_id=delivery.id, number=1, started_at=long_ago))
            delivery.attempts = 1
        delivery.status = status
        delivery.updated_at = long_ago
        session.execute(sa.update(Job).values(status="failed", error="database unreachable"))


@pytest.mark.parametrize("status", ["pending", "sending"])
def test_a_stranded_delivery_is_resent_once_and_arrives(
    cfg_fast: Settings, database: Database, queue: JobQueue, status: str
) -> None:
    tenant_id = make_tenant_user(database, cfg_fast, role=Role.ADMIN).tenant_id
    with running_receiver() as receiver:
        subscribe(database, cfg_fast, tenant_id, receiver)
        with database.tenant_session(tenant_id) as session:
            event = emit_event(session, type="churn.alert", data={"n": 1})
            assert event is not None
        queue.huey.flush()  # the job's message is gone with it
        _strand(database, tenant_id, status=status)

        assert resend_stranded(database) == 1
        assert resend_stranded(database) == 0  # its new job is queued: not stranded twice
        with start_embedded_consumer(cfg_fast, database=database, queue=queue, periodic=False):
            rows = wait_for(lambda: all_finished(database, 1), timeout=30, what="the delivery")
    assert rows[0].status == "delivered"
    assert receiver.accepted == [event.id]
    log = attempts(database, rows[0].id)
    # A delivery stranded mid-attempt shows that attempt as interrupted, then the one that
    # arrived; one stranded before its attempt shows only the one.
    assert [a.ok for a in log] == ([False, True] if status == "sending" else [True])


def test_recent_and_worked_deliveries_are_left_alone(
    cfg_fast: Settings, database: Database, queue: JobQueue
) -> None:
    tenant_id = make_tenant_user(database, cfg_fast, role=Role.ADMIN).tenant_id
    with running_receiver() as receiver:
        subscribe(database, cfg_fast, tenant_id, receiver)
        with database.tenant_session(tenant_id) as session:
            assert emit_event(session, type="churn.alert", data={"n": 2}) is not None
        # Queued, with a job: not stranded however old.
        with database.system_session() as session:
            session.execute(
                sa.update(WebhookDelivery).values(updated_at=utcnow() - timedelta(hours=2))
            )
        assert resend_stranded(database) == 0
        # Its job gone but the delivery touched a moment ago: still being worked, maybe.
        with database.system_session() as session:
            session.execute(sa.update(Job).values(status="failed"))
            session.execute(sa.update(WebhookDelivery).values(updated_at=utcnow()))
        assert resend_stranded(database) == 0
        assert queue.pending_count() == 1  # only the original message


def test_the_sweep_is_scheduled_every_ten_minutes_on_the_queue() -> None:
    discover_handlers()
    specs = {spec.name: spec for spec in periodic_specs()}
    assert "webhooks.resend_stranded" in specs
    assert specs["webhooks.resend_stranded"].schedule(datetime(2030, 1, 1, 4, 20))
    assert not specs["webhooks.resend_stranded"].schedule(datetime(2030, 1, 1, 4, 25))
