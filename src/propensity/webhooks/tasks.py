"""The delivery job: one attempt per run (delivery.py); retries are new jobs after backoff.
A run that would exceed the delivery limits (limits.py) is deferred without an attempt.
Every ten minutes, deliveries left without a job are sent again (sweep.py)."""

from __future__ import annotations

from typing import Any

from huey import crontab

from propensity.db import Database
from propensity.errors import InvalidInput
from propensity.jobs import JobContext, job_handler, periodic_task
from propensity.settings import Settings
from propensity.webhooks.delivery import deliver
from propensity.webhooks.events import DELIVER_JOB
from propensity.webhooks.limits import SLOTS, delivery_threads
from propensity.webhooks.sweep import resend_stranded


# retry_on_error: an error outside the HTTP call (the database, say) re-runs the job; the run
# finds its attempt unfinished, records it as interrupted and sends again.
@job_handler(DELIVER_JOB, retry_on_error=True)
def deliver_job(ctx: JobContext) -> dict[str, Any]:
    delivery_id = ctx.params.get("deliveryId")
    if isinstance(delivery_id, bool) or not isinstance(delivery_id, int):
        raise InvalidInput("deliveryId must be a delivery id")
    # Checked before the attempt is claimed: a deferred run leaves no trace on the delivery.
    with SLOTS.slot(
        ctx.tenant_id,
        per_tenant=ctx.settings.webhook_concurrency_per_tenant,
        total=delivery_threads(ctx.consumer_threads),
        database=ctx.database,
    ):
        return deliver(ctx.database, ctx.settings, tenant_id=ctx.tenant_id, delivery_id=delivery_id)


@periodic_task("webhooks.resend_stranded", schedule=crontab(minute="*/10"))
def resend_stranded_deliveries(database: Database, settings: Settings) -> None:
    del settings
    resend_stranded(database)
