"""feature states: the online feature state of each customer and lead (features/state.py)

Created empty: until an entity's state is built (by its next import, or by
`propensity features backfill`), scoring reads its history as before.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 05:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feature_states",
        sa.Column("subject", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column("built_at_us", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_feature_states_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject", "entity_id", name=op.f("pk_feature_states")),
    )
    op.create_index(
        op.f("ix_feature_states_tenant_id"), "feature_states", ["tenant_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_feature_states_tenant_id"), table_name="feature_states")
    op.drop_table("feature_states")
