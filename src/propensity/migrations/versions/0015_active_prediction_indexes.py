"""predictions: partial indexes of each entity's ACTIVE prediction per type

Superseding walked every earlier prediction of the entity (the per-entity indexes hold its
whole history), so storing a batch grew slower with each run: 8 s for the UPDATE of 100,000
leads scored 28 times before, 1 s with these indexes (bench/RESULTS.md).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 06:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for subject in ("customer", "lead"):
        # Only the subject's own rows: a lead's prediction has no customer to index.
        only_active = sa.text(f"status = 'ACTIVE' AND {subject}_id IS NOT NULL")
        op.create_index(
            f"ix_predictions_active_{subject}",
            "predictions",
            ["tenant_id", "prediction_type", f"{subject}_id"],
            sqlite_where=only_active,
            postgresql_where=only_active,
        )


def downgrade() -> None:
    for subject in ("customer", "lead"):
        op.drop_index(f"ix_predictions_active_{subject}", table_name="predictions")
