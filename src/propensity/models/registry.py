"""Model versions per tenant, prediction type and population, with their artifacts."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from propensity.db import Base, JSONType, TenantOwned, UTCDateTime, new_stamp, utcnow


class ModelStatus(enum.StrEnum):
    TRAINING = "training"
    ACTIVE = "active"
    INACTIVE = "inactive"
    RETIRED = "retired"
    FAILED = "failed"


class ModelVersion(TenantOwned, Base):
    __tablename__ = "model_versions"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "prediction_type", "population", "version_number"),
        sa.Index(
            "ix_model_versions_lookup", "tenant_id", "prediction_type", "population", "status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    prediction_type: Mapped[str] = mapped_column(sa.String(32))
    # Which entities the model is for: "account", "subscriber" or "lead". A tenant with
    # both B2B accounts and B2C subscribers gets a churn model for each.
    population: Mapped[str] = mapped_column(sa.String(32))
    version_number: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    algorithm: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16), default=ModelStatus.TRAINING.value)
    horizon_days: Mapped[int | None]
    threshold: Mapped[float | None]
    hyperparameters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    selection: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    feature_importance: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    feature_stats: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    feature_specs: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    training_summary: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    training_config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    training_seconds: Mapped[float | None]
    artifact_hash: Mapped[str | None] = mapped_column(sa.String(64))
    error: Mapped[str | None] = mapped_column(sa.Text)
    job_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    trained_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Every status change made through the model API: {"from", "to", "reason", "at", "by"}.
    status_history: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    # A new random number with every INSERT and UPDATE of the row, ORM or Core: serving keeps
    # the active version in memory and compares this instead of reading the row (a random
    # value, unlike a counter, is known without reading it back after the update).
    stamp: Mapped[int] = mapped_column(
        sa.BigInteger, default=new_stamp, onupdate=new_stamp, server_default=sa.text("0")
    )

    @property
    def version(self) -> str:
        return f"v{self.version_number}"


class ModelArtifact(TenantOwned, Base):
    """The trained model's bytes, apart from its metadata so listings never load them."""

    __tablename__ = "model_artifacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("model_versions.id", ondelete="CASCADE"), unique=True
    )
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeploymentStatus(enum.StrEnum):
    RUNNING = "running"
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"
    STOPPED = "stopped"


class Deployment(TenantOwned, Base):
    """A champion/challenger test: while `running`, scoring sends a sticky `traffic_split`
    share of the entities of (prediction type, population) to the challenger (ADR 0008)."""

    __tablename__ = "ml_deployments"
    __table_args__ = (
        sa.Index(
            "ix_ml_deployments_lookup", "tenant_id", "prediction_type", "population", "status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    prediction_type: Mapped[str] = mapped_column(sa.String(32))
    population: Mapped[str] = mapped_column(sa.String(32))
    champion_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("model_versions.id", ondelete="CASCADE")
    )
    challenger_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("model_versions.id", ondelete="CASCADE")
    )
    traffic_split: Mapped[float]
    status: Mapped[str] = mapped_column(sa.String(16), default=DeploymentStatus.RUNNING.value)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    monitoring_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    guardrails: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    validation_results: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    decision: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_by_user_id: Mapped[int | None]
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
