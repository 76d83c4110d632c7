"""initial schema: tenants, users, api keys, crm data, jobs

Revision ID: 0001
Revises:
Create Date: 2026-11-22 13:16:00.721980
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import propensity.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", propensity.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("slug", name=op.f("uq_tenants_slug")),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("created_at", propensity.db.UTCDateTime(), nullable=True),
        sa.Column("account_type", sa.String(length=16), nullable=True),
        sa.Column("health_score", sa.Double(), nullable=True),
        sa.Column("renewal_date", sa.Date(), nullable=True),
        sa.Column("arr", sa.Double(), nullable=True),
        sa.Column("plan", sa.String(length=100), nullable=True),
        sa.Column("watch_time_hours", sa.Double(), nullable=True),
        sa.Column("device_count", sa.Integer(), nullable=True),
        sa.Column("last_login_at", propensity.db.UTCDateTime(), nullable=True),
        sa.Column("payment_failures", sa.Integer(), nullable=True),
        sa.Column("tenure_months", sa.Double(), nullable=True),
        sa.Column("lifetime_value", sa.Double(), nullable=True),
        sa.Column("membership_years", sa.Double(), nullable=True),
        sa.Column("total_purchases", sa.Integer(), nullable=True),
        sa.Column("affinity_card", sa.Boolean(), nullable=True),
        sa.Column("login_frequency", sa.Double(), nullable=True),
        sa.Column("last_purchase_at", propensity.db.UTCDateTime(), nullable=True),
        sa.Column("churned", sa.Boolean(), nullable=True),
        sa.Column("churned_at", propensity.db.UTCDateTime(), nullable=True),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("imported_at", propensity.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", propensity.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_customers_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint(
            "tenant_id", "external_id", name=op.f("uq_customers_tenant_id_external_id")
        ),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customers_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index("ix_customers_tenant_kind", ["tenant_id", "kind"], unique=False)

    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=True),
        sa.Column("progress", sa.Double(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "result",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", propensity.db.UTCDateTime(), nullable=False),
        sa.Column("started_at", propensity.db.UTCDateTime(), nullable=True),
        sa.Column("heartbeat_at", propensity.db.UTCDateTime(), nullable=True),
        sa.Column("finished_at", propensity.db.UTCDateTime(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_jobs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_status_heartbeat", ["status", "heartbeat_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "lead_scoring_configs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", propensity.db.UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_lead_scoring_configs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_scoring_configs")),
        sa.UniqueConstraint(
            "tenant_id", "name", name=op.f("uq_lead_scoring_configs_tenant_id_name")
        ),
    )
    with op.batch_alter_table("lead_scoring_configs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lead_scoring_configs_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "property_sales",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("property_type", sa.String(length=64), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("list_price", sa.Double(), nullable=True),
        sa.Column("sale_price", sa.Double(), nullable=False),
        sa.Column("listed_at", propensity.db.UTCDateTime(), nullable=True),
        sa.Column("sold_at", propensity.db.UTCDateTime(), nullable=False),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_property_sales_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_sales")),
        sa.UniqueConstraint(
            "tenant_id", "external_id", name=op.f("uq_property_sales_tenant_id_external_id")
        ),
    )
    with op.batch_alter_table("property_sales", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_property_sales_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", propensity.db.UTCDateTime(), nullable=False),
        sa.Column("last_login_at", propensity.db.UTCDateTime(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_users_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", propensity.db.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", propensity.db.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", propensity.db.UTCDateTime(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_api_keys_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_api_keys_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "health_snapshots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("overall_score", sa.Double(), nullable=False),
        sa.Column("engagement", sa.Double(), nullable=True),
        sa.Column("product_adoption", sa.Double(), nullable=True),
        sa.Column("support_satisfaction", sa.Double(), nullable=True),
        sa.Column("executive_relationship", sa.Double(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_health_snapshots_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_health_snapshots_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_snapshots")),
        sa.UniqueConstraint(
            "tenant_id",
            "customer_id",
            "snapshot_date",
            name=op.f("uq_health_snapshots_tenant_id_customer_id_snapshot_date"),
        ),
    )
    with op.batch_alter_table("health_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_health_snapshots_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_health_snapshots_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "leads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("config_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("company", sa.String(length=300), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("created_at", propensity.db.UTCDateTime(), nullable=True),
        sa.Column("converted_at", propensity.db.UTCDateTime(), nullable=True),
        sa.Column("lost_at", propensity.db.UTCDateTime(), nullable=True),
        sa.Column("converted", sa.Boolean(), nullable=True),
        sa.Column("deal_value", sa.Double(), nullable=True),
        sa.Column("budget", sa.Double(), nullable=True),
        sa.Column("timeline", sa.String(length=64), nullable=True),
        sa.Column("property_type", sa.String(length=64), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("imported_at", propensity.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", propensity.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["config_id"],
            ["lead_scoring_configs.id"],
            name=op.f("fk_leads_config_id_lead_scoring_configs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_leads_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.UniqueConstraint(
            "tenant_id", "external_id", name=op.f("uq_leads_tenant_id_external_id")
        ),
    )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leads_config_id"), ["config_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_leads_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_key", sa.String(length=160), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", propensity.db.UTCDateTime(), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column(
            "properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(customer_id IS NULL) <> (lead_id IS NULL)", name=op.f("ck_events_one_subject")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_events_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_events_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_events_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("tenant_id", "event_key", name=op.f("uq_events_tenant_id_event_key")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_customer_time", ["tenant_id", "customer_id", "occurred_at"], unique=False
        )
        batch_op.create_index(
            "ix_events_lead_time", ["tenant_id", "lead_id", "occurred_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_events_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_tenant_id"))
        batch_op.drop_index("ix_events_lead_time")
        batch_op.drop_index("ix_events_customer_time")

    op.drop_table("events")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leads_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_leads_config_id"))

    op.drop_table("leads")
    with op.batch_alter_table("health_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_health_snapshots_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_health_snapshots_customer_id"))

    op.drop_table("health_snapshots")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_tenant_id"))

    op.drop_table("api_keys")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_tenant_id"))

    op.drop_table("users")
    with op.batch_alter_table("property_sales", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_property_sales_tenant_id"))

    op.drop_table("property_sales")
    with op.batch_alter_table("lead_scoring_configs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_scoring_configs_tenant_id"))

    op.drop_table("lead_scoring_configs")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_tenant_id"))
        batch_op.drop_index("ix_jobs_status_heartbeat")

    op.drop_table("jobs")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_tenant_kind")
        batch_op.drop_index(batch_op.f("ix_customers_tenant_id"))

    op.drop_table("customers")
    op.drop_table("tenants")
