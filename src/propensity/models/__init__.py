"""Every table, in one package (as Polar's server keeps them): domains import the tables they
read and write from here, so a table shared by two domains adds no dependency between them,
and `Base.metadata` is complete once this package is imported (Alembic, tests)."""

from propensity.models.crm import (
    Customer,
    CustomerKind,
    Event,
    HealthSnapshot,
    Lead,
    LeadScoringConfig,
    PropertySale,
    Timestamps,
)
from propensity.models.ctas import Cta, CtaPriority, CtaSource, CtaStatus, CtaType
from propensity.models.features import FeatureState
from propensity.models.jobs import Job, JobStatus
from propensity.models.llm import LlmUsage
from propensity.models.portfolio import PortfolioSnapshot
from propensity.models.predictions import Prediction, PredictionStatus
from propensity.models.registry import (
    Deployment,
    DeploymentStatus,
    ModelArtifact,
    ModelStatus,
    ModelVersion,
)
from propensity.models.tenancy import ApiKey, Role, Tenant, User
from propensity.models.webhooks import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)

__all__ = [
    "ApiKey",
    "Cta",
    "CtaPriority",
    "CtaSource",
    "CtaStatus",
    "CtaType",
    "Customer",
    "CustomerKind",
    "DeliveryStatus",
    "Deployment",
    "DeploymentStatus",
    "Event",
    "FeatureState",
    "HealthSnapshot",
    "Job",
    "JobStatus",
    "Lead",
    "LeadScoringConfig",
    "LlmUsage",
    "ModelArtifact",
    "ModelStatus",
    "ModelVersion",
    "PortfolioSnapshot",
    "Prediction",
    "PredictionStatus",
    "PropertySale",
    "Role",
    "Tenant",
    "Timestamps",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookSubscription",
]
