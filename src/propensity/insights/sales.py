"""The closed sales (PropertySale rows) behind the market insights, read for a window ending at
the latest recorded sale that matches the filters: sales arrive by import, often days behind,
and a window ending today would report a slump that is only missing data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.insights.market import Sale, windows
from propensity.models import PropertySale


@dataclass(frozen=True)
class MarketSales:
    end: datetime  # the latest matching sale: where the current window ends
    sales: list[Sale]  # those sold or listed in the current or the previous window


def _filters(location: str | None, property_type: str | None) -> list[sa.ColumnElement[bool]]:
    # Case-insensitive: imported sales and callers spell cities differently ("Seattle").
    out: list[sa.ColumnElement[bool]] = []
    if location and location.strip():
        out.append(sa.func.lower(PropertySale.location) == location.strip().lower())
    if property_type and property_type.strip():
        out.append(sa.func.lower(PropertySale.property_type) == property_type.strip().lower())
    return out


def market_sales(
    session: Session, *, location: str | None, property_type: str | None, days: int
) -> MarketSales | None:
    """The matching sales of the `days` ending at the latest matching sale and of the `days`
    before (listings of either window count toward inventory, even when sold later); None
    when no sale matches."""
    conditions = _filters(location, property_type)
    end = session.scalar(sa.select(sa.func.max(PropertySale.sold_at)).where(*conditions))
    if end is None:
        return None
    _, previous = windows(end, days)
    rows = session.execute(
        sa.select(
            PropertySale.sale_price,
            PropertySale.list_price,
            PropertySale.listed_at,
            PropertySale.sold_at,
        ).where(
            *conditions,
            sa.or_(PropertySale.sold_at > previous.start, PropertySale.listed_at > previous.start),
        )
    )
    sales = [
        Sale(float(price), None if listed is None else float(listed), listed_at, sold_at)
        for price, listed, listed_at, sold_at in rows
    ]
    return MarketSales(end=end, sales=sales)
