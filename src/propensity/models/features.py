"""The online feature state (features/state.py): one row per customer or lead."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from propensity.db import Base, TenantOwned


class FeatureState(TenantOwned, Base):
    """What scoring needs of one entity's events and health, kept as they are imported.

    `subject` is "customer" or "lead" (their ids are separate sequences). `built_at_us` is the
    clock when the state was computed: it answers exactly for any scoring time at or after it.
    `payload` is the encoded state (features/state.py, versioned inside)."""

    __tablename__ = "feature_states"
    __table_args__ = (
        # The states of a list of entities, found id by id: with only the key (subject,
        # entity_id) and the tenant's index, SQLite read every state of the tenant for an IN
        # list of a few hundred ids or more (0.2 s for 2,000 of 200,000; 10 ms with this).
        sa.Index("ix_feature_states_tenant_subject_entity", "tenant_id", "subject", "entity_id"),
    )

    subject: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    entity_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    built_at_us: Mapped[int] = mapped_column(sa.BigInteger)
    payload: Mapped[bytes] = mapped_column(sa.LargeBinary)
