"""The delivery job: one attempt per run (delivery.py); retries are new jobs after backoff."""

from __future__ import annotations

from typing import Any

from propensity.errors import InvalidInput
from propensity.jobs import JobContext, job_handler
from propensity.webhooks.delivery import deliver
from propensity.webhooks.events import DELIVER_JOB


# retry_on_error: an error outside the HTTP call (the database, say) re-runs the job; the run
# finds its attempt unfinished, records it as interrupted and sends again.
@job_handler(DELIVER_JOB, retry_on_error=True)
def deliver_job(ctx: JobContext) -> dict[str, Any]:
    delivery_id = ctx.params.get("deliveryId")
    if isinstance(delivery_id, bool) or not isinstance(delivery_id, int):
        raise InvalidInput("deliveryId must be a delivery id")
    return deliver(ctx.database, ctx.settings, tenant_id=ctx.tenant_id, delivery_id=delivery_id)
