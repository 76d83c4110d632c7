"""Every prediction served, with its explanation, validity and, later, its outcome."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from propensity.db import Base, BigIntPK, JSONType, TenantOwned, UTCDateTime, utcnow


class PredictionStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    SUPERSEDED = "SUPERSEDED"


def only_active(subject: str) -> sa.TextClause:
    """The condition of a partial index of ACTIVE predictions of one subject (`customer_id`
    or `lead_id`). A statement uses such an index only when it names the status itself
    (`status = 'ACTIVE'`: SQLite cannot match a bound parameter to the condition); its
    comparison on the subject implies the NOT NULL."""
    return sa.text(f"status = '{PredictionStatus.ACTIVE.value}' AND {subject} IS NOT NULL")


class Prediction(TenantOwned, Base):
    __tablename__ = "predictions"
    __table_args__ = (
        sa.CheckConstraint("(customer_id IS NULL) <> (lead_id IS NULL)", name="one_subject"),
        sa.Index(
            "ix_predictions_customer", "tenant_id", "prediction_type", "customer_id", "predicted_at"
        ),
        sa.Index("ix_predictions_lead", "tenant_id", "prediction_type", "lead_id", "predicted_at"),
        sa.Index("ix_predictions_status", "tenant_id", "prediction_type", "status"),
        sa.Index("ix_predictions_job", "tenant_id", "job_id"),
        # Each entity's one ACTIVE prediction per type, found without walking its history: a
        # new prediction supersedes the ACTIVE one, and with the indexes above that walked
        # every earlier prediction of the entity (8 s for 100,000 leads scored 28 times).
        sa.Index(
            "ix_predictions_active_customer",
            "tenant_id",
            "prediction_type",
            "customer_id",
            sqlite_where=only_active("customer_id"),
            postgresql_where=only_active("customer_id"),
        ),
        sa.Index(
            "ix_predictions_active_lead",
            "tenant_id",
            "prediction_type",
            "lead_id",
            sqlite_where=only_active("lead_id"),
            postgresql_where=only_active("lead_id"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    prediction_type: Mapped[str] = mapped_column(sa.String(32))
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE")
    )
    lead_id: Mapped[int | None] = mapped_column(sa.ForeignKey("leads.id", ondelete="CASCADE"))
    # Null for the documented rule-based scorer, which no trained model backs.
    model_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("model_versions.id", ondelete="SET NULL"), index=True
    )
    probability: Mapped[float | None]
    # Type-specific main value: predicted health score, median days to close, 0-100 score.
    predicted_value: Mapped[float | None]
    confidence: Mapped[float | None]
    outputs: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    contributions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    explanation: Mapped[str | None] = mapped_column(sa.Text)
    predicted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(16), default=PredictionStatus.ACTIVE.value)
    served_by: Mapped[str | None] = mapped_column(sa.String(16))
    latency_ms: Mapped[float | None]
    # The job that stored it (portfolio and batch scoring): a retried job skips what an
    # earlier run of it stored, so nothing is written or announced twice.
    job_id: Mapped[str | None] = mapped_column(sa.String(64))
    was_accurate: Mapped[bool | None]
    actual_value: Mapped[float | None]
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
