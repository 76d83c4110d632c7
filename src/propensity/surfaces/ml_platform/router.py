"""The `/api/ml` router: each area of the document in its own module, included here."""

from __future__ import annotations

from propensity.prefix_router import PrefixRouter
from propensity.surfaces.ml_platform import (
    analytics,
    batch_scores,
    config,
    conversion,
    deploy,
    features,
    market,
    models_monitoring,
    models_registry,
    scores,
)

router = PrefixRouter(prefix="/api/ml", tags=["ml-platform"])
router.include_router(scores.router)
router.include_router(batch_scores.router)
router.include_router(conversion.router)
router.include_router(market.router)
router.include_router(config.router)
router.include_router(models_monitoring.router)
router.include_router(features.router)
router.include_router(analytics.router)
router.include_router(models_registry.router)
router.include_router(deploy.router)
