"""entity (tenant, updated_at) indexes for the online feature path's data stamp

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 19:35:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_customers_tenant_updated", "customers", ["tenant_id", "updated_at"])
    op.create_index("ix_leads_tenant_updated", "leads", ["tenant_id", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_leads_tenant_updated", table_name="leads")
    op.drop_index("ix_customers_tenant_updated", table_name="customers")
