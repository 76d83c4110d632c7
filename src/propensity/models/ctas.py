"""The `ctas` table: one row per call to action, generated from a prediction or by hand."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from propensity.db import Base, BigIntPK, TenantOwned, UTCDateTime, utcnow


class CtaType(enum.StrEnum):
    RISK = "RISK"
    RENEWAL = "RENEWAL"
    ONBOARDING = "ONBOARDING"


class CtaPriority(enum.StrEnum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


class CtaStatus(enum.StrEnum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class CtaSource(enum.StrEnum):
    ML = "ml"
    MANUAL = "manual"


class Cta(TenantOwned, Base):
    __tablename__ = "ctas"
    __table_args__ = (
        # De-duplication and cooldown look up an account's CTAs by type and age.
        sa.Index("ix_ctas_customer_type", "tenant_id", "customer_id", "type", "created_at"),
        sa.Index("ix_ctas_status", "tenant_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    # Kept when the prediction is deleted: the task stays valid, only its provenance goes.
    prediction_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("predictions.id", ondelete="SET NULL"), index=True
    )
    type: Mapped[str] = mapped_column(sa.String(16))
    priority: Mapped[str] = mapped_column(sa.String(16))
    title: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # The generation reason; an open CTA with the same account, type and reason is a duplicate.
    reason: Mapped[str] = mapped_column(sa.String(200))
    due_date: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(16), default=CtaStatus.OPEN.value)
    source: Mapped[str] = mapped_column(sa.String(16), default=CtaSource.ML.value)
    created_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
