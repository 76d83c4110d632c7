"""Imports every ORM model so that `Base.metadata` is complete (Alembic, tests)."""

from propensity.crm import models as crm_models
from propensity.ctas import models as cta_models
from propensity.jobs import models as jobs_models
from propensity.llm import models as llm_models
from propensity.portfolio import models as portfolio_models
from propensity.predictions import models as prediction_models
from propensity.registry import models as registry_models
from propensity.tenancy import models as tenancy_models
from propensity.webhooks import models as webhook_models

__all__ = [
    "crm_models",
    "cta_models",
    "jobs_models",
    "llm_models",
    "portfolio_models",
    "prediction_models",
    "registry_models",
    "tenancy_models",
    "webhook_models",
]
