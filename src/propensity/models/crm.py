"""CRM data: customers (B2B accounts and B2C subscribers), leads, events, health, sales.

Typed columns hold what the API documents name; every other imported column lands in
`attributes`, and any of them can become a model feature.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from propensity.db import Base, BigIntPK, JSONType, TenantOwned, UTCDateTime, utcnow


class CustomerKind(enum.StrEnum):
    ACCOUNT = "account"
    SUBSCRIBER = "subscriber"


class Timestamps:
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Customer(TenantOwned, Timestamps, Base):
    __tablename__ = "customers"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "external_id"),
        sa.Index("ix_customers_tenant_kind", "tenant_id", "kind"),
        # The online feature path's data stamp reads max(updated_at) per tenant on every build.
        sa.Index("ix_customers_tenant_updated", "tenant_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(sa.String(128))
    kind: Mapped[str] = mapped_column(sa.String(16), default=CustomerKind.SUBSCRIBER.value)
    name: Mapped[str | None] = mapped_column(sa.String(300))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # B2B account fields (customer-success document)
    account_type: Mapped[str | None] = mapped_column(sa.String(16))
    health_score: Mapped[float | None]
    renewal_date: Mapped[date | None]
    arr: Mapped[float | None]
    # B2C subscriber fields (churn-kpi and retainstream documents)
    plan: Mapped[str | None] = mapped_column(sa.String(100))
    watch_time_hours: Mapped[float | None]
    device_count: Mapped[int | None]
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payment_failures: Mapped[int | None]
    tenure_months: Mapped[float | None]
    lifetime_value: Mapped[float | None]
    membership_years: Mapped[float | None]
    total_purchases: Mapped[int | None]
    affinity_card: Mapped[bool | None]
    login_frequency: Mapped[float | None]
    last_purchase_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Outcome: `churned` alone for static snapshots without dates (e.g. a CSV export).
    churned: Mapped[bool | None]
    churned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class LeadScoringConfig(TenantOwned, Base):
    """A named set of leads (`configId` in the lead-ml document) with its scoring settings."""

    __tablename__ = "lead_scoring_configs"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Lead(TenantOwned, Timestamps, Base):
    __tablename__ = "leads"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "external_id"),
        sa.Index("ix_leads_tenant_updated", "tenant_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(sa.String(128))
    config_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("lead_scoring_configs.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str | None] = mapped_column(sa.String(320))
    name: Mapped[str | None] = mapped_column(sa.String(300))
    company: Mapped[str | None] = mapped_column(sa.String(300))
    title: Mapped[str | None] = mapped_column(sa.String(300))
    phone: Mapped[str | None] = mapped_column(sa.String(64))
    source: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lost_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Outcome without dates, for static exports.
    converted: Mapped[bool | None]
    deal_value: Mapped[float | None]
    # Real-estate fields (ml-platform document)
    budget: Mapped[float | None]
    timeline: Mapped[str | None] = mapped_column(sa.String(64))
    property_type: Mapped[str | None] = mapped_column(sa.String(64))
    location: Mapped[str | None] = mapped_column(sa.String(200))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class Event(TenantOwned, Base):
    """Something a customer or lead did or had happen to it, at a point in time."""

    __tablename__ = "events"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "event_key"),
        sa.CheckConstraint("(customer_id IS NULL) <> (lead_id IS NULL)", name="one_subject"),
        sa.Index("ix_events_customer_time", "tenant_id", "customer_id", "occurred_at"),
        sa.Index("ix_events_lead_time", "tenant_id", "lead_id", "occurred_at"),
        # The event types a kind of customer has, found by a loose scan (features/history.py).
        sa.Index(
            "ix_events_customer_type",
            "tenant_id",
            "type",
            "customer_id",
            sqlite_where=sa.text("customer_id IS NOT NULL"),
            postgresql_where=sa.text("customer_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # The external id when the source has one, else a digest of the event's content,
    # so that importing the same file twice stores each event once.
    event_key: Mapped[str] = mapped_column(sa.String(160))
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE")
    )
    lead_id: Mapped[int | None] = mapped_column(sa.ForeignKey("leads.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(sa.String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    value: Mapped[float | None]
    properties: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class HealthSnapshot(TenantOwned, Base):
    __tablename__ = "health_snapshots"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "customer_id", "snapshot_date"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    snapshot_date: Mapped[date]
    overall_score: Mapped[float]
    engagement: Mapped[float | None]
    product_adoption: Mapped[float | None]
    support_satisfaction: Mapped[float | None]
    executive_relationship: Mapped[float | None]


class PropertySale(TenantOwned, Base):
    """A closed real-estate deal, for market insights."""

    __tablename__ = "property_sales"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(sa.String(128))
    property_type: Mapped[str | None] = mapped_column(sa.String(64))
    location: Mapped[str | None] = mapped_column(sa.String(200))
    list_price: Mapped[float | None]
    sale_price: Mapped[float]
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sold_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
