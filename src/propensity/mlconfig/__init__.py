"""Per-tenant ML configuration (spec/ml-platform.md `GET/PUT /api/ml/config`): validated,
persisted in the tenant's settings, and read by the code it governs (batch size, scoring
timeout, score cache TTL, retraining threshold, alert thresholds)."""

from propensity.mlconfig.service import (
    Caching,
    MlConfig,
    Monitoring,
    Scoring,
    Training,
    load_ml_config,
    update_ml_config,
)

__all__ = [
    "Caching",
    "MlConfig",
    "Monitoring",
    "Scoring",
    "Training",
    "load_ml_config",
    "update_ml_config",
]
