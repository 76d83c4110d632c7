"""Subscriptions (create, list, read, update, delete) and their delivery log. Functions
flush and never commit: the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import utcnow
from propensity.errors import InvalidInput, NotFound
from propensity.logs import get_logger
from propensity.models import WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription
from propensity.settings import Settings
from propensity.webhooks import signing
from propensity.webhooks.events import TEST_EVENT, emit_event, forget_subscriptions, parse_events
from propensity.webhooks.url_policy import check_url

log = get_logger(__name__)

MAX_SUBSCRIPTIONS = 50
MAX_LIST_LIMIT = 200


@dataclass(frozen=True)
class DeliveryLogEntry:
    delivery: WebhookDelivery
    event_type: str
    attempts: list[WebhookAttempt]


def _checked_url(url: str, settings: Settings) -> str:
    return check_url(url, allow_private=settings.webhook_allow_private_addresses).url


def create_subscription(
    session: Session,
    *,
    url: str,
    events: list[str],
    description: str = "",
    active: bool = True,
    created_by: int | None,
    settings: Settings,
) -> tuple[WebhookSubscription, str]:
    """Returns the subscription and its secret; the secret is never shown again."""
    checked = _checked_url(url, settings)
    chosen = parse_events(events)
    count = session.scalar(sa.select(sa.func.count()).select_from(WebhookSubscription)) or 0
    if count >= MAX_SUBSCRIPTIONS:
        raise InvalidInput(f"A tenant has at most {MAX_SUBSCRIPTIONS} webhook subscriptions")
    secret = signing.new_secret()
    now = utcnow()
    subscription = WebhookSubscription(
        url=checked,
        events=chosen,
        description=description,
        secret=secret,
        active=active,
        consecutive_failures=0,
        created_by_user_id=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(subscription)
    session.flush()
    forget_subscriptions(session)
    log.info("webhook_subscribed", subscription_id=subscription.id, events=chosen)
    return subscription, secret


def get_subscription(session: Session, *, subscription_id: int) -> WebhookSubscription:
    found = session.scalar(
        sa.select(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
    )
    if found is None:
        raise NotFound("Webhook subscription not found", code="WEBHOOK_NOT_FOUND")
    return found


def list_subscriptions(session: Session) -> list[WebhookSubscription]:
    return list(session.scalars(sa.select(WebhookSubscription).order_by(WebhookSubscription.id)))


def update_subscription(
    session: Session,
    *,
    subscription_id: int,
    url: str | None,
    events: list[str] | None,
    description: str | None,
    active: bool | None,
    settings: Settings,
) -> WebhookSubscription:
    """Re-enabling clears the failure count and the reason it was disabled."""
    subscription = get_subscription(session, subscription_id=subscription_id)
    if url is not None:
        subscription.url = _checked_url(url, settings)
    if events is not None:
        subscription.events = parse_events(events)
    if description is not None:
        subscription.description = description
    if active is not None and active != subscription.active:
        subscription.active = active
        if active:
            subscription.consecutive_failures = 0
            subscription.disabled_reason = None
            subscription.disabled_at = None
        else:
            subscription.disabled_reason = "Disabled by a user"
            subscription.disabled_at = utcnow()
    subscription.updated_at = utcnow()
    session.flush()
    forget_subscriptions(session)
    log.info("webhook_subscription_updated", subscription_id=subscription.id)
    return subscription


def delete_subscription(session: Session, *, subscription_id: int) -> None:
    """Its deliveries and their attempts go with it; events stay for other subscriptions."""
    subscription = get_subscription(session, subscription_id=subscription_id)
    session.delete(subscription)
    session.flush()
    forget_subscriptions(session)
    log.info("webhook_subscription_deleted", subscription_id=subscription_id)


def send_test(session: Session, *, subscription_id: int) -> WebhookDelivery:
    """Queues a `webhook.test` ping to this subscription, active or not (checking a receiver
    before re-enabling it is the point)."""
    subscription = get_subscription(session, subscription_id=subscription_id)
    event = emit_event(
        session,
        type=TEST_EVENT,
        data={"subscriptionId": subscription.id, "message": "Test event from Propensity"},
        subscription_id=subscription.id,
    )
    assert event is not None
    delivery = session.scalar(
        sa.select(WebhookDelivery).where(
            WebhookDelivery.event_id == event.id,
            WebhookDelivery.subscription_id == subscription.id,
        )
    )
    assert delivery is not None
    return delivery


def delivery_log(
    session: Session,
    *,
    subscription_id: int,
    status: str | None = None,
    event_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[DeliveryLogEntry]:
    """Newest first, each with every attempt in order."""
    get_subscription(session, subscription_id=subscription_id)
    query = (
        sa.select(WebhookDelivery, WebhookEvent.type)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.subscription_id == subscription_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status.strip().lower())
    if event_id is not None:
        query = query.where(WebhookDelivery.event_id == event_id)
    rows = session.execute(query.limit(max(1, min(limit, MAX_LIST_LIMIT))).offset(offset)).all()
    ids = [delivery.id for delivery, _ in rows]
    attempts: dict[int, list[WebhookAttempt]] = {i: [] for i in ids}
    if ids:
        for attempt in session.scalars(
            sa.select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(ids))
            .order_by(WebhookAttempt.delivery_id, WebhookAttempt.number)
        ):
            attempts[attempt.delivery_id].append(attempt)
    return [DeliveryLogEntry(delivery, str(t), attempts[delivery.id]) for delivery, t in rows]
