"""ctas (calls to action)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 16:06:21.634669
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import propensity.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ctas",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column(
            "prediction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("due_date", propensity.db.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", propensity.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", propensity.db.UTCDateTime(), nullable=False),
        sa.Column("completed_at", propensity.db.UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", propensity.db.UTCDateTime(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_ctas_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_ctas_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["prediction_id"],
            ["predictions.id"],
            name=op.f("fk_ctas_prediction_id_predictions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ctas_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ctas")),
    )
    with op.batch_alter_table("ctas", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ctas_customer_type",
            ["tenant_id", "customer_id", "type", "created_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_ctas_prediction_id"), ["prediction_id"], unique=False)
        batch_op.create_index("ix_ctas_status", ["tenant_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_ctas_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ctas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ctas_tenant_id"))
        batch_op.drop_index("ix_ctas_status")
        batch_op.drop_index(batch_op.f("ix_ctas_prediction_id"))
        batch_op.drop_index("ix_ctas_customer_type")

    op.drop_table("ctas")
