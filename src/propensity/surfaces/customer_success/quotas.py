"""The document's daily quotas, per tenant: single predictions (fresh ones only: a cached
answer costs nothing), batch operations and CTA generation. Configurable in settings."""

from __future__ import annotations

from fastapi import Request, Response

from propensity.ratelimit import consume
from propensity.surfaces.customer_success.context import CsContext
from propensity.tenancy.service import require_scorer

PREDICT = "cs-predict"
BATCH = "cs-batch"
CTA = "cs-cta"
MESSAGE = "Daily quota reached for this tenant; try again tomorrow or raise the limit."


def spend(request: Request, ctx: CsContext, scope: str, response: Response | None = None) -> None:
    require_scorer(ctx.principal)
    limits = {
        PREDICT: ctx.settings.cs_predict_daily_limit,
        BATCH: ctx.settings.cs_batch_daily_limit,
        CTA: ctx.settings.cs_cta_daily_limit,
    }
    consume(
        request,
        scope=scope,
        limit=limits[scope],
        key=f"tenant-{ctx.principal.tenant_id}",
        message=MESSAGE,
        response=response,
    )
