"""One row per tenant, prediction type, population and day: the portfolio as scored then."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from propensity.db import Base, BigIntPK, JSONType, TenantOwned, UTCDateTime, utcnow


class PortfolioSnapshot(TenantOwned, Base):
    __tablename__ = "portfolio_snapshots"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "prediction_type", "population", "snapshot_date"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    prediction_type: Mapped[str] = mapped_column(sa.String(32))
    population: Mapped[str] = mapped_column(sa.String(32))
    snapshot_date: Mapped[date] = mapped_column(sa.Date)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    model_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    threshold: Mapped[float | None]
    total_customers: Mapped[int]
    at_risk_count: Mapped[int]
    average_risk_score: Mapped[float]
    ltv_at_risk: Mapped[float]
    cohorts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # "live" (the ACTIVE predictions at that moment) or "backfill" (scored point-in-time).
    source: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
