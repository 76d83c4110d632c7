"""Helpers for webhook tests: settings with tiny backoff, subscriptions, reading the log."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from propensity.db import Database
from propensity.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from propensity.settings import Settings
from propensity.webhooks.service import create_subscription
from tests.webhooks.receiver import Receiver


def fast_settings(settings: Settings, **overrides: Any) -> Settings:
    """Loopback allowed (the receiver is on 127.0.0.1), retries a scheduler tick apart."""
    values: dict[str, Any] = {
        "webhook_allow_private_addresses": True,
        "webhook_backoff_seconds": 0.05,
        "webhook_timeout_seconds": 0.5,
        "webhook_max_attempts": 4,
        "webhook_disable_after_failures": 2,
        **overrides,
    }
    return settings.model_copy(update=values)


def subscribe(
    database: Database,
    settings: Settings,
    tenant_id: int,
    receiver: Receiver,
    *,
    path: str = "/hook",
    events: tuple[str, ...] = ("churn.alert", "model.trained"),
) -> int:
    with database.tenant_session(tenant_id) as session:
        sub, secret = create_subscription(
            session,
            url=receiver.url(path),
            events=list(events),
            created_by=None,
            settings=settings,
        )
        receiver.secrets[path] = secret
        return int(sub.id)


def deliveries(database: Database) -> list[WebhookDelivery]:
    with database.system_session() as session:
        return list(session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)))


def attempts(database: Database, delivery_id: int) -> list[WebhookAttempt]:
    with database.system_session() as session:
        return list(
            session.scalars(
                sa.select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id == delivery_id)
                .order_by(WebhookAttempt.number)
            )
        )


def subscription(database: Database, subscription_id: int) -> WebhookSubscription:
    with database.system_session() as session:
        found = session.get(WebhookSubscription, subscription_id)
        assert found is not None
        return found


def all_finished(database: Database, count: int) -> list[WebhookDelivery] | None:
    rows = deliveries(database)
    finished = [d for d in rows if d.status in {"delivered", "failed", "cancelled"}]
    return rows if len(rows) == count and len(finished) == count else None
