"""Retention: what no answer needs any more is deleted after its period, and nothing else."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import sqlalchemy as sa

from propensity.crm.service import import_frame
from propensity.db import Database, utcnow
from propensity.models import (
    Cta,
    Customer,
    Job,
    Prediction,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from propensity.retention.tasks import prune_all
from propensity.settings import Settings
from tests.features.helpers import new_tenant


def _prediction(customer_id: int, status: str, days_ago: int) -> Prediction:
    at = utcnow() - timedelta(days=days_ago)
    return Prediction(
        prediction_type="CHURN",
        customer_id=customer_id,
        probability=0.5,
        outputs={},
        contributions={},
        predicted_at=at,
        valid_until=at + timedelta(days=7),
        status=status,
    )


def test_old_rows_no_answer_needs_are_pruned_and_the_rest_kept(
    database: Database, settings: Settings
) -> None:
    tenant = new_tenant(database, "acme")
    other = new_tenant(database, "other")
    with database.tenant_session(tenant) as session:
        import_frame(
            session,
            kind="customers",
            frame=pd.DataFrame([{"customer_id": "c1", "kind": "account"}]),
        )
        customer = session.scalars(sa.select(Customer)).one()
        old_superseded = _prediction(customer.id, "SUPERSEDED", 500)
        recent_superseded = _prediction(customer.id, "SUPERSEDED", 10)
        old_active = _prediction(customer.id, "ACTIVE", 500)
        session.add_all([old_superseded, recent_superseded, old_active])
        session.flush()
        cta = Cta(
            customer_id=customer.id,
            prediction_id=old_superseded.id,
            type="RISK",
            priority="HIGH",
            title="Call",
            reason="risk",
            due_date=utcnow(),
        )
        now = utcnow()
        jobs = [
            Job(id="old-done", type="x", status="completed", finished_at=now - timedelta(days=200)),
            Job(id="new-done", type="x", status="completed", finished_at=now - timedelta(days=1)),
            Job(id="old-queued", type="x", status="queued", created_at=now - timedelta(days=200)),
        ]
        hook = WebhookSubscription(url="https://example.invalid/h", events=[], secret="whsec_x")
        session.add_all([cta, *jobs, hook])
        session.flush()
        old_event = WebhookEvent(
            id="evt-old", type="x", body="{}", created_at=now - timedelta(days=60)
        )
        pending_event = WebhookEvent(
            id="evt-pending", type="x", body="{}", created_at=now - timedelta(days=60)
        )
        session.add_all([old_event, pending_event])
        session.flush()
        session.add_all(
            [
                WebhookDelivery(event_id=old_event.id, subscription_id=hook.id, status="delivered"),
                WebhookDelivery(
                    event_id=pending_event.id, subscription_id=hook.id, status="pending"
                ),
            ]
        )
        kept_ids = {recent_superseded.id, old_active.id}
    with database.tenant_session(other) as session:
        session.add(
            Job(id="other-old", type="x", status="failed", finished_at=now - timedelta(days=200))
        )

    pruned = prune_all(database, settings)
    assert pruned[tenant].to_dict() == {"predictions": 1, "jobs": 1, "webhookEvents": 1}
    assert pruned[other].jobs == 1
    with database.tenant_session(tenant) as session:
        assert set(session.scalars(sa.select(Prediction.id))) == kept_ids
        assert set(session.scalars(sa.select(Job.id))) == {"new-done", "old-queued"}
        assert session.scalars(sa.select(Cta.prediction_id)).one() is None  # the task stays
        events = set(session.scalars(sa.select(WebhookEvent.id)))
        assert events == {pending_event.id}
        assert session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 1
