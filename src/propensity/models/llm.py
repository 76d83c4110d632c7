"""What each tenant spent on the LLM per UTC day: the budget reads and adds to one row."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from propensity.db import Base, BigIntPK, TenantOwned, UTCDateTime, utcnow


class LlmUsage(TenantOwned, Base):
    __tablename__ = "llm_usage"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "day"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date)
    calls: Mapped[int] = mapped_column(default=0)
    prompt_tokens: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    completion_tokens: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    cost_usd: Mapped[float] = mapped_column(default=0.0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
