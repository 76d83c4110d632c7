"""What a tenant's leads can be filtered by: its lead-scoring configurations and the sources
its leads came from (the dashboard's lead list offers these as choices). The tenant session
scopes every read."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.models import Lead, LeadScoringConfig


def lead_configs(session: Session) -> list[LeadScoringConfig]:
    """The tenant's configurations, oldest first (the first is the default list)."""
    return list(session.scalars(sa.select(LeadScoringConfig).order_by(LeadScoringConfig.id)))


def lead_sources(session: Session, *, config_id: int | None = None) -> list[str]:
    """The distinct non-empty lead sources (of one configuration when given), sorted."""
    query = sa.select(Lead.source).where(Lead.source.is_not(None), Lead.source != "").distinct()
    if config_id is not None:
        query = query.where(Lead.config_id == config_id)
    return sorted(str(s) for s in session.scalars(query))
