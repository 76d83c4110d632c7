"""The document's rate limits per tenant: 100 predictions a minute and 1,000 an hour. Only
fresh predictions count (a cached answer costs nothing); a bulk request counts one per lead
it scores, checked before any is scored, so a refused request stores nothing."""

from __future__ import annotations

from fastapi import Request, Response

from propensity.ratelimit import consume
from propensity.surfaces.lead_ml.context import LeadContext
from propensity.tenancy.service import require_scorer

MESSAGE = "Prediction rate limit reached for this tenant; try again later."


def spend(
    request: Request, ctx: LeadContext, *, count: int = 1, response: Response | None = None
) -> None:
    require_scorer(ctx.principal, count)
    key = f"tenant-{ctx.tenant_id}"
    for _ in range(count):
        for scope, limit in (
            ("lead-predict-minute", ctx.settings.lead_rate_limit_per_minute),
            ("lead-predict-hour", ctx.settings.lead_rate_limit_per_hour),
        ):
            consume(request, scope=scope, limit=limit, key=key, message=MESSAGE, response=response)
