"""ml deployments (champion/challenger) and model status history

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 17:20:20.018810
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import propensity.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ml_deployments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prediction_type", sa.String(length=32), nullable=False),
        sa.Column("population", sa.String(length=32), nullable=False),
        sa.Column("champion_version_id", sa.Integer(), nullable=False),
        sa.Column("challenger_version_id", sa.Integer(), nullable=False),
        sa.Column("traffic_split", sa.Double(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", propensity.db.UTCDateTime(), nullable=False),
        sa.Column("ends_at", propensity.db.UTCDateTime(), nullable=False),
        sa.Column("monitoring_until", propensity.db.UTCDateTime(), nullable=True),
        sa.Column(
            "guardrails",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "validation_results",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "decision",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", propensity.db.UTCDateTime(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenger_version_id"],
            ["model_versions.id"],
            name=op.f("fk_ml_deployments_challenger_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["champion_version_id"],
            ["model_versions.id"],
            name=op.f("fk_ml_deployments_champion_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ml_deployments_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ml_deployments")),
    )
    with op.batch_alter_table("ml_deployments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ml_deployments_lookup",
            ["tenant_id", "prediction_type", "population", "status"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_ml_deployments_tenant_id"), ["tenant_id"], unique=False
        )

    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status_history",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default="[]",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_column("status_history")

    with op.batch_alter_table("ml_deployments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ml_deployments_tenant_id"))
        batch_op.drop_index("ix_ml_deployments_lookup")

    op.drop_table("ml_deployments")
