"""Deliveries left without a job are sent again.

A delivery is worked by exactly one job at a time (tasks.py); each attempt's job enqueues the
next in the transaction that records the attempt. A delivery can still be stranded: its job
failed for a reason outside the HTTP call (the database unreachable through every one of the
runner's retries), or was cancelled through the jobs API. Such a delivery stays `pending` or
`sending` with nothing queued to finish it, and its receiver would never hear of the event.

`resend_stranded` finds unfinished deliveries untouched for STRANDED_AFTER and with no queued
or running delivery job, and enqueues one for each. The job treats an attempt left `sending`
as interrupted (delivery.py), so the log still shows every attempt and the receiver, which
de-duplicates by event id, sees the event at least once. It runs every ten minutes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa

from propensity.db import Database, utcnow
from propensity.logs import get_logger
from propensity.models import DeliveryStatus, Job, JobStatus, WebhookDelivery
from propensity.webhooks.events import DELIVER_JOB, enqueue_delivery

log = get_logger(__name__)

# Longer than an attempt's deadline, a job's start delay and a deferred delivery job's wait
# (webhooks/limits.py; a deferred job is queued, so it counts as worked anyway).
STRANDED_AFTER = timedelta(minutes=15)
UNFINISHED = (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)
WORKING = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


def resend_stranded(database: Database, *, now: datetime | None = None) -> int:
    """Enqueues a delivery job for every stranded delivery; returns how many."""
    now = now or utcnow()
    with database.system_session() as session:
        candidates = session.execute(
            sa.select(WebhookDelivery.tenant_id, WebhookDelivery.id).where(
                WebhookDelivery.status.in_(UNFINISHED),
                WebhookDelivery.updated_at < now - STRANDED_AFTER,
            )
        ).all()
        if not candidates:
            return 0
        worked = {
            params.get("deliveryId")
            for params in session.scalars(
                sa.select(Job.params).where(Job.type == DELIVER_JOB, Job.status.in_(WORKING))
            )
            if isinstance(params, dict)
        }
    by_tenant: dict[int, list[int]] = defaultdict(list)
    for tenant_id, delivery_id in candidates:
        if delivery_id not in worked:
            by_tenant[int(tenant_id)].append(int(delivery_id))
    for tenant_id, ids in by_tenant.items():
        with database.tenant_session(tenant_id) as session:
            for delivery_id in ids:
                enqueue_delivery(session, delivery_id=delivery_id)
    resent = sum(len(ids) for ids in by_tenant.values())
    if resent:
        log.warning("webhook_deliveries_resent", count=resent, tenants=len(by_tenant))
    return resent
