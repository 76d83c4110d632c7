"""`GET /api/ml/insights/market` (`location`, `propertyType`, `timeframe` 7d/30d/90d): trends,
recommendations and insights computed from the tenant's closed sales (PropertySale rows, read
by propensity.insights.sales) by propensity.insights.market.

The window ends at the latest recorded sale matching the filters (`period.end`), not at the
request time: sales arrive by import, often days behind, and a window ending today would report
a slump that is only missing data. No matching sale: every trend null, no recommendation or
insight, and `sampleSize` 0.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from propensity.deps import TenantSession, Viewer
from propensity.errors import InvalidInput
from propensity.insights.market import insights as market_insights
from propensity.insights.market import recommendations, trends, windows
from propensity.insights.sales import market_sales
from propensity.surfaces.ml_platform.common import limited, ok
from propensity.timefmt import iso_z

router = APIRouter()

TIMEFRAMES = {"7d": 7, "30d": 30, "90d": 90}


def parse_market_timeframe(value: str | None) -> tuple[str, int]:
    text = "30d" if value is None else value.strip().lower()
    if text not in TIMEFRAMES:
        raise InvalidInput(
            f"Invalid timeframe '{value}': use one of {', '.join(TIMEFRAMES)}",
            code="VALIDATION_ERROR",
            details={"field": "timeframe", "allowed": list(TIMEFRAMES)},
        )
    return text, TIMEFRAMES[text]


@router.get("/insights/market")
def market_insights_endpoint(
    principal: Viewer,
    session: TenantSession,
    _limit: Annotated[None, Depends(limited("analytics"))],
    location: str | None = None,
    property_type: Annotated[str | None, Query(alias="propertyType")] = None,
    timeframe: str | None = None,
) -> dict[str, Any]:
    label, days = parse_market_timeframe(timeframe)
    found = market_sales(session, location=location, property_type=property_type, days=days)
    filters = {"location": location, "propertyType": property_type, "timeframe": label}
    if found is None:
        return ok(
            {
                "marketTrends": {
                    "priceGrowth": None,
                    "inventoryChange": None,
                    "daysOnMarket": None,
                    "buyerDemand": None,
                },
                "recommendations": [],
                "insights": [],
                "sampleSize": 0,
                "period": None,
                "filters": filters,
                "message": "No closed sales match these filters: nothing to analyse",
            }
        )
    end = found.end
    _, previous = windows(end, days)
    t = trends(found.sales, end=end, days=days)
    return ok(
        {
            "marketTrends": {
                "priceGrowth": None if t.price_growth is None else round(t.price_growth, 4),
                "inventoryChange": None
                if t.inventory_change is None
                else round(t.inventory_change, 4),
                "daysOnMarket": t.days_on_market,
                "buyerDemand": t.buyer_demand,
                "saleToListRatio": None if t.sale_to_list is None else round(t.sale_to_list, 4),
                "medianPrice": t.median_price,
            },
            "recommendations": recommendations(t),
            "insights": market_insights(t, timeframe=label),
            "sampleSize": t.sample_size,
            "previousSampleSize": t.previous_sample_size,
            "period": {
                "start": iso_z(end - timedelta(days=days)),
                "end": iso_z(end),
                "previousStart": iso_z(previous.start),
            },
            "filters": filters,
        }
    )
