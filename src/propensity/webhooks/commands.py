"""Webhook subscription changes as units of work of their own, committed, for callers that
never touch the transaction (the dashboard's pages). Each calls the service function the
REST API calls (webhooks.service), so the checks are the same: the receiver URL policy, the
known event types, the limit on subscriptions."""

from __future__ import annotations

from sqlalchemy.orm import Session

from propensity.db import committing
from propensity.models import WebhookSubscription
from propensity.settings import Settings
from propensity.webhooks.service import (
    create_subscription,
    delete_subscription,
    send_test,
    update_subscription,
)

# The new subscription and its signing secret, which is never shown again.
subscribe = committing(create_subscription)
# Deletes a subscription with its delivery log.
unsubscribe = committing(delete_subscription)
# Queues a `webhook.test` delivery to the subscription (active or not).
ping = committing(send_test)
_update_subscription = committing(update_subscription)


def set_subscription_active(
    session: Session, *, subscription_id: int, active: bool, settings: Settings
) -> WebhookSubscription:
    """Disables, or re-enables (clearing the failure count), one subscription."""
    return _update_subscription(
        session,
        subscription_id=subscription_id,
        url=None,
        events=None,
        description=None,
        active=active,
        settings=settings,
    )
