"""The native API under /api/v1: what the documents lack (ingestion, jobs, keys, ...)."""

from __future__ import annotations

from fastapi import APIRouter

from propensity.api_v1 import keys

router = APIRouter(prefix="/api/v1")
router.include_router(keys.router)
router.include_router(__import__("propensity.api_v1.jobs", fromlist=["router"]).router)
router.include_router(__import__("propensity.api_v1.imports", fromlist=["router"]).router)
