"""Webhook subscription changes as units of work of their own, committed, for callers that
never touch the transaction (the dashboard's pages). Each calls the service function the
REST API calls (webhooks.service), so the checks are the same: the receiver URL policy, the
known event types, the limit on subscriptions."""

from __future__ import annotations

from sqlalchemy.orm import Session

from propensity.models import WebhookDelivery, WebhookSubscription
from propensity.settings import Settings
from propensity.webhooks.service import (
    create_subscription,
    delete_subscription,
    send_test,
    update_subscription,
)


def subscribe(
    session: Session,
    *,
    url: str,
    events: list[str],
    description: str,
    created_by: int | None,
    settings: Settings,
) -> tuple[WebhookSubscription, str]:
    """The new subscription and its signing secret, which is never shown again."""
    subscription, secret = create_subscription(
        session,
        url=url,
        events=events,
        description=description,
        created_by=created_by,
        settings=settings,
    )
    session.commit()
    return subscription, secret


def set_subscription_active(
    session: Session, *, subscription_id: int, active: bool, settings: Settings
) -> WebhookSubscription:
    """Disables, or re-enables (clearing the failure count), one subscription."""
    subscription = update_subscription(
        session,
        subscription_id=subscription_id,
        url=None,
        events=None,
        description=None,
        active=active,
        settings=settings,
    )
    session.commit()
    return subscription


def unsubscribe(session: Session, *, subscription_id: int) -> None:
    """Deletes a subscription with its delivery log."""
    delete_subscription(session, subscription_id=subscription_id)
    session.commit()


def ping(session: Session, *, subscription_id: int) -> WebhookDelivery:
    """Queues a `webhook.test` delivery to the subscription (active or not)."""
    delivery = send_test(session, subscription_id=subscription_id)
    session.commit()
    return delivery
