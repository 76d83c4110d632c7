"""tenants: a stamp that every change to the tenant's CRM history renews, so a process may keep
a whole kind's events and health in memory and know with one read by key whether they still
hold (features/history_cache.py)

Existing tenants get a random stamp here; 0 (the server default) means unknown and is never
trusted.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 12:40:00.000000
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("history_stamp", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
    connection = op.get_bind()
    tenants = sa.table("tenants", sa.column("id", sa.Integer), sa.column("history_stamp"))
    for (tenant_id,) in connection.execute(sa.select(tenants.c.id)).all():
        connection.execute(
            tenants.update()
            .where(tenants.c.id == tenant_id)
            .values(history_stamp=secrets.randbits(62))
        )


def downgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("history_stamp")
