"""Market trends from closed sales: pure computation, no database.

Windows: the current window is the `days` ending at `end` (end inclusive), the previous one
the `days` before it. From the sales:

- priceGrowth: median sale price of the current window / that of the previous window - 1
  (null when either window has no sales).
- inventoryChange: homes listed (`listed_at`) in the current window / in the previous one - 1
  (null when the previous window listed none or no listing dates are known).
- daysOnMarket: median of sold_at - listed_at over the current window's sales, in whole days.
- saleToList: median sale_price / list_price over the current window's sales.
- buyerDemand: "high" when saleToList >= HIGH_RATIO and daysOnMarket <= FAST_DAYS, "low" when
  saleToList < LOW_RATIO or daysOnMarket > SLOW_DAYS, otherwise "moderate".
- averagePremium: mean of sale_price / list_price - 1 over the current window.

Insights: the average premium over asking ("high" impact from HIGH_IMPACT_PREMIUM either way,
"medium" from MEDIUM_IMPACT_PREMIUM) and the days on market ("high" impact when at most half of
FAST_DAYS or beyond SLOW_DAYS). Recommendations follow from those numbers (`recommendations`);
their confidence grows with the number of sales behind them: n / (n + CONFIDENCE_HALF_N).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

HIGH_RATIO = 1.0
LOW_RATIO = 0.98
FAST_DAYS = 30
SLOW_DAYS = 60
# Sample size at which a recommendation's confidence is 0.5.
CONFIDENCE_HALF_N = 30
# A price trend smaller than this (either way) is "flat".
FLAT_GROWTH = 0.01
# Premium over asking (either way) from which a pricing insight is "high" / "medium" impact.
HIGH_IMPACT_PREMIUM = 0.03
MEDIUM_IMPACT_PREMIUM = 0.01


@dataclass(frozen=True)
class Sale:
    sale_price: float
    list_price: float | None
    listed_at: datetime | None
    sold_at: datetime


@dataclass(frozen=True)
class Window:
    start: datetime  # exclusive
    end: datetime  # inclusive

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start < moment <= self.end


def windows(end: datetime, days: int) -> tuple[Window, Window]:
    span = timedelta(days=days)
    return Window(end - span, end), Window(end - 2 * span, end - span)


def _ratio_change(current: float | None, previous: float | None) -> float | None:
    if current is None or previous is None or previous <= 0:
        return None
    return current / previous - 1


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def demand(sale_to_list: float | None, days_on_market: float | None) -> str | None:
    if sale_to_list is None and days_on_market is None:
        return None
    if (sale_to_list is not None and sale_to_list < LOW_RATIO) or (
        days_on_market is not None and days_on_market > SLOW_DAYS
    ):
        return "low"
    if (sale_to_list is None or sale_to_list >= HIGH_RATIO) and (
        days_on_market is None or days_on_market <= FAST_DAYS
    ):
        return "high"
    return "moderate"


def confidence(sample_size: int) -> float:
    return round(sample_size / (sample_size + CONFIDENCE_HALF_N), 2)


@dataclass(frozen=True)
class Trends:
    sample_size: int
    previous_sample_size: int
    price_growth: float | None
    inventory_change: float | None
    days_on_market: int | None
    sale_to_list: float | None
    average_premium: float | None
    buyer_demand: str | None
    median_price: float | None


def trends(sales: Sequence[Sale], *, end: datetime, days: int) -> Trends:
    current, previous = windows(end, days)
    now_sales = [s for s in sales if current.holds(s.sold_at)]
    before = [s for s in sales if previous.holds(s.sold_at)]
    listed_now = sum(1 for s in sales if current.holds(s.listed_at))
    listed_before = sum(1 for s in sales if previous.holds(s.listed_at))
    median_now = _median([s.sale_price for s in now_sales])
    dom = _median(
        [
            (s.sold_at - s.listed_at).total_seconds() / 86400
            for s in now_sales
            if s.listed_at is not None
        ]
    )
    ratios = [s.sale_price / s.list_price for s in now_sales if s.list_price]
    stl = _median(ratios)
    return Trends(
        sample_size=len(now_sales),
        previous_sample_size=len(before),
        price_growth=_ratio_change(median_now, _median([s.sale_price for s in before])),
        inventory_change=_ratio_change(float(listed_now), float(listed_before))
        if listed_before
        else None,
        days_on_market=None if dom is None else round(dom),
        sale_to_list=stl,
        average_premium=statistics.fmean(r - 1 for r in ratios) if ratios else None,
        buyer_demand=demand(stl, dom),
        median_price=median_now,
    )


def _pct(value: float) -> str:
    return f"{abs(value) * 100:.1f}%"


def recommendations(t: Trends) -> list[dict[str, Any]]:
    """A pricing recommendation from the price trend and inventory, and a marketing one from
    buyer demand; none without sales."""
    if t.sample_size == 0:
        return []
    out: list[dict[str, Any]] = []
    growth, inventory = t.price_growth, t.inventory_change
    if growth is not None and growth > FLAT_GROWTH and (inventory is None or inventory <= 0):
        low = max(1, round(growth * 100 / 2))
        out.append(
            {
                "type": "pricing",
                "action": f"Consider a {low}-{max(low + 1, round(growth * 100))}% price increase",
                "reason": f"Median sale price up {_pct(growth)} on the previous period"
                + ("" if inventory is None else f" while listings changed {inventory:+.1%}"),
            }
        )
    elif growth is not None and growth < -FLAT_GROWTH:
        out.append(
            {
                "type": "pricing",
                "action": "Price competitively against recent comparable sales",
                "reason": f"Median sale price down {_pct(growth)} on the previous period",
            }
        )
    elif t.average_premium is not None:
        side = "above" if t.average_premium >= 0 else "below"
        out.append(
            {
                "type": "pricing",
                "action": "Price in line with recent comparable sales",
                "reason": f"Prices are flat or not comparable with the previous period; homes "
                f"sell {_pct(t.average_premium)} {side} asking on average",
            }
        )
    marketing = {
        "high": ("Focus on urgent buyer messaging", "High buyer demand detected"),
        "moderate": (
            "Balance new-listing promotion with buyer follow-up",
            "Moderate buyer demand",
        ),
        "low": (
            "Nurture buyers with value-focused messaging",
            "Low buyer demand: homes sell slowly or under asking",
        ),
    }
    if t.buyer_demand is not None:
        action, reason = marketing[t.buyer_demand]
        detail = []
        if t.sale_to_list is not None:
            detail.append(f"median sale-to-list {t.sale_to_list:.3f}")
        if t.days_on_market is not None:
            detail.append(f"{t.days_on_market} days on market")
        out.append(
            {
                "type": "marketing",
                "action": action,
                "reason": f"{reason} ({', '.join(detail)})" if detail else reason,
            }
        )
    return [{**r, "confidence": confidence(t.sample_size)} for r in out]


def insights(t: Trends, *, timeframe: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if t.average_premium is not None:
        premium = t.average_premium
        side = "above" if premium >= 0 else "below"
        impact = (
            "high"
            if abs(premium) >= HIGH_IMPACT_PREMIUM
            else "medium"
            if abs(premium) >= MEDIUM_IMPACT_PREMIUM
            else "low"
        )
        out.append(
            {
                "category": "pricing",
                "insight": f"Comparable properties selling {_pct(premium)} {side} asking price",
                "impact": impact,
                "data": {
                    "averagePremium": round(premium, 4),
                    "sampleSize": t.sample_size,
                    "timeframe": timeframe,
                },
            }
        )
    if t.days_on_market is not None:
        out.append(
            {
                "category": "timing",
                "insight": f"Homes sell in a median of {t.days_on_market} days on market",
                "impact": "high"
                if t.days_on_market <= FAST_DAYS / 2 or t.days_on_market > SLOW_DAYS
                else "medium",
                "data": {
                    "daysOnMarket": t.days_on_market,
                    "sampleSize": t.sample_size,
                    "timeframe": timeframe,
                },
            }
        )
    return out
