"""The native API under /api/v1: what the documents lack (ingestion, jobs, keys, ...)."""

from __future__ import annotations

from propensity.api_v1 import ctas, imports, jobs, keys, webhooks
from propensity.prefix_router import PrefixRouter

router = PrefixRouter(prefix="/api/v1")
router.include_router(keys.router)
router.include_router(jobs.router)
router.include_router(imports.router)
router.include_router(ctas.router)
router.include_router(webhooks.router)
