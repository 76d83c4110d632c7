"""feature states: format 2, decoded in bulk (features/state_codec.py)

The stored states of format 1 are dropped: the code reads only format 2. Until an entity's
state is rebuilt (by its next import, or by `propensity features backfill`), scoring reads
its history as before, so nothing is wrong in between, only slower.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 01:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM feature_states")


def downgrade() -> None:
    # The older code cannot read format 2 either.
    op.execute("DELETE FROM feature_states")
