"""Lead-scoring configurations (the lead-ml document's `configId`) and the leads they hold.
The tenant session scopes every read, so another tenant's configuration is not found."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.models import Lead, LeadScoringConfig


def find_config(session: Session, *, config_id: int) -> LeadScoringConfig | None:
    """The configuration with this id; None when the tenant has none (the surface words
    its 404)."""
    return session.get(LeadScoringConfig, config_id)


def open_leads(session: Session, *, config_id: int) -> list[Lead]:
    """The configuration's open leads (neither converted nor lost), by id: the leads that
    are scored, ranked and tiered."""
    return list(
        session.scalars(
            sa.select(Lead)
            .where(
                Lead.config_id == config_id,
                Lead.converted_at.is_(None),
                Lead.lost_at.is_(None),
                sa.or_(Lead.converted.is_(None), Lead.converted.is_(False)),
            )
            .order_by(Lead.id)
        )
    )


def known_deal_values(session: Session, *, config_id: int | None) -> list[float]:
    """The known value of each lead (its deal value, else its budget) of the configuration,
    or of the whole tenant with None: the reference a lead's priority weighs its value by."""
    query = sa.select(sa.func.coalesce(Lead.deal_value, Lead.budget))
    if config_id is not None:
        query = query.where(Lead.config_id == config_id)
    return [float(v) for v in session.scalars(query) if v is not None]
