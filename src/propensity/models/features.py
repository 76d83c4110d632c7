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

    subject: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    entity_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    built_at_us: Mapped[int] = mapped_column(sa.BigInteger)
    payload: Mapped[bytes] = mapped_column(sa.LargeBinary)
