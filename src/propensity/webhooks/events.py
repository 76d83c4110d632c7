"""The events a subscription can ask for, and emitting them.

`emit_event` writes, in the caller's transaction, one event row and one delivery row per
active subscription that wants the event, and enqueues one delivery job per delivery; the
jobs are sent when the transaction commits and never when it rolls back (jobs/service.py).
A tenant without subscriptions costs one probe of (tenant_id, active) per transaction: the
answer is kept on the session until the transaction ends.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, SessionTransaction

from propensity.db import TENANT_KEY, tenant_matches, utcnow
from propensity.db_read import tenant_read
from propensity.errors import InvalidInput
from propensity.jobs import enqueue_job
from propensity.logs import get_logger
from propensity.models import (
    DeliveryStatus,
    Tenant,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from propensity.timefmt import iso_z

log = get_logger(__name__)

# The names the documents give (customer-success: prediction.*, cta.auto_generated;
# RetainStream: prediction.completed, model.trained, churn.alert).
EVENT_TYPES = (
    "prediction.created",
    "prediction.high_risk",
    "prediction.completed",
    "prediction.validated",
    "cta.auto_generated",
    "model.trained",
    "churn.alert",
)
TEST_EVENT = "webhook.test"  # sent only by POST /api/v1/webhooks/{id}/test
DELIVER_JOB = "webhooks.deliver"
# Small, latency-sensitive jobs: ahead of queued batch work (batch-score "high" is 10).
DELIVERY_PRIORITY = 20
_CACHE = "propensity.webhooks.subscriptions"
_ACTIVE_SUBSCRIPTIONS = sa.select(WebhookSubscription.id, WebhookSubscription.events).where(
    tenant_matches(WebhookSubscription.tenant_id),
    WebhookSubscription.active.is_(True),
)


def parse_events(values: list[str]) -> list[str]:
    if not values:
        raise InvalidInput(
            "events must name at least one event", details={"field": "events"}, code="BAD_EVENTS"
        )
    chosen: list[str] = []
    for value in values:
        name = value.strip().lower()
        if name not in EVENT_TYPES:
            raise InvalidInput(
                f"events: unknown event '{value}'; known: {', '.join(EVENT_TYPES)}",
                details={"field": "events", "known": list(EVENT_TYPES)},
                code="BAD_EVENTS",
            )
        if name not in chosen:
            chosen.append(name)
    return chosen


def forget_subscriptions(session: Session) -> None:
    """Called when subscriptions change in this session, so the next emission re-reads."""
    session.info.pop(_CACHE, None)


def _active_subscriptions(session: Session) -> list[tuple[int, list[str]]]:
    transaction = session.get_transaction()
    cached: tuple[SessionTransaction | None, list[tuple[int, list[str]]]] | None = session.info.get(
        _CACHE
    )
    if cached is not None and transaction is not None and cached[0] is transaction:
        return cached[1]
    rows = tenant_read(session, _ACTIVE_SUBSCRIPTIONS).all()
    found = [(int(i), list(events or [])) for i, events in rows]
    session.info[_CACHE] = (session.get_transaction(), found)
    return found


def wants(session: Session, type: str) -> bool:
    """Whether any active subscription of the session's tenant takes `type`: hooks ask this
    before they compute an event's data."""
    if session.info.get(TENANT_KEY) is None:
        return False
    return any(type in events for _, events in _active_subscriptions(session))


def jsonable(value: Any) -> Any:
    """JSON-safe copy: non-finite floats become null (JSON has no NaN), numpy scalars plain."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return jsonable(item())
    return str(value)


def _event_id(tenant_id: int, type: str, key: str | None) -> str:
    if key is None:
        return "evt_" + uuid.uuid4().hex
    # A keyed event (e.g. one per finished job) gets the same id when a rerun emits it again.
    digest = hashlib.sha256(f"{tenant_id}:{type}:{key}".encode()).hexdigest()
    return "evt_" + digest[:32]


def emit_event(
    session: Session,
    *,
    type: str,
    data: Mapping[str, Any],
    key: str | None = None,
    subscription_id: int | None = None,
) -> WebhookEvent | None:
    """Queue `type` with `data` for every active subscription of the session's tenant that
    takes it (or only for `subscription_id`, the test ping). Returns the event, or None when
    no subscription wants it (then nothing is written). `key` makes the event id
    deterministic, so a job that reruns emits the same event once."""
    tenant_id = session.info.get(TENANT_KEY)
    if tenant_id is None:
        return None
    if subscription_id is None:
        targets = [sid for sid, events in _active_subscriptions(session) if type in events]
    else:
        targets = [subscription_id]
    if not targets:
        return None
    event_id = _event_id(tenant_id, type, key)
    existing = session.scalar(sa.select(WebhookEvent).where(WebhookEvent.id == event_id))
    if existing is not None:
        return existing
    now = utcnow()
    tenant = session.get(Tenant, tenant_id)
    body = {
        "id": event_id,
        "type": type,
        "tenant": {"id": tenant_id, "slug": tenant.slug if tenant is not None else None},
        "createdAt": iso_z(now),
        "data": jsonable(data),
    }
    event = WebhookEvent(
        id=event_id,
        type=type,
        body=json.dumps(body, separators=(",", ":"), allow_nan=False),
        created_at=now,
    )
    session.add(event)
    session.flush()
    for sid in targets:
        delivery = WebhookDelivery(
            event_id=event_id,
            subscription_id=sid,
            status=DeliveryStatus.PENDING.value,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(delivery)
        session.flush()
        enqueue_delivery(session, delivery_id=delivery.id)
    log.info("webhook_event_emitted", event_id=event_id, event_type=type, deliveries=len(targets))
    return event


def enqueue_delivery(session: Session, *, delivery_id: int, delay_seconds: float = 0.0) -> None:
    enqueue_job(
        session,
        type=DELIVER_JOB,
        params={"deliveryId": delivery_id},
        priority=DELIVERY_PRIORITY,
        delay_seconds=delay_seconds,
    )
