"""events: an index of each customer event's type, so the event types of a kind are found with
a few seeks

The first scoring of a process after each change to the history asked which event types the
kind's customers have with a DISTINCT over every event of the tenant: 16 s for 8.3 million
events, 1.1 s for the demo's 1.3 million. A loose scan of this index takes 1-100 ms
(features/history.py, bench/RESULTS.md).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 19:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Customers' events only: lead features do not depend on which types are present.
    customers_only = sa.text("customer_id IS NOT NULL")
    op.create_index(
        "ix_events_customer_type",
        "events",
        ["tenant_id", "type", "customer_id"],
        sqlite_where=customers_only,
        postgresql_where=customers_only,
    )


def downgrade() -> None:
    op.drop_index("ix_events_customer_type", table_name="events")
