"""feature_states: an index of (tenant, subject, entity), so the states of a list of entities
are found id by id

Without statistics, SQLite answered `tenant_id = ? AND subject = ? AND entity_id IN (...)`
for a few hundred ids or more through the tenant's index, reading every state of the tenant:
0.2 s for 2,000 of 200,000 states, 10 ms with this index (bench/RESULTS.md). Such lists are
read in IN lists of 2,000 for any build of up to 20,000 ids (a bulk score, a job given its
entities or a maximum).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 01:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_feature_states_tenant_subject_entity",
        "feature_states",
        ["tenant_id", "subject", "entity_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_feature_states_tenant_subject_entity", table_name="feature_states")
