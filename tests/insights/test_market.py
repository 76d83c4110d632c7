"""Market trends from closed sales, checked against hand computations on a few sales."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from propensity.insights.market import (
    Sale,
    confidence,
    demand,
    insights,
    recommendations,
    trends,
)

END = datetime(2026, 6, 1, tzinfo=UTC)


def day(month: int, d: int) -> datetime:
    return datetime(2026, month, d, tzinfo=UTC)


# Current 30-day window (May 2, Jun 1]: three sales; previous (Apr 2, May 2]: two.
SALES = [
    Sale(510_000, 500_000, day(5, 1), day(5, 20)),  # 19 days, 1.02 of asking
    Sale(400_000, 400_000, day(5, 10), day(5, 25)),  # 15 days, at asking
    Sale(306_000, 300_000, day(4, 30), day(6, 1)),  # 32 days, 1.02
    Sale(360_000, 390_000, day(3, 20), day(4, 15)),
    Sale(420_000, 420_000, day(4, 5), day(4, 25)),
    Sale(999_000, 999_000, day(1, 5), day(2, 1)),  # before both windows: ignored
]


def test_trends_match_a_hand_computation() -> None:
    t = trends(SALES, end=END, days=30)
    assert t.sample_size == 3 and t.previous_sample_size == 2
    # Medians 400,000 now and (360,000 + 420,000) / 2 = 390,000 before.
    assert t.price_growth == pytest.approx(400_000 / 390_000 - 1)
    # Listed now: one (May 10); before: May 1, Apr 30 and Apr 5.
    assert t.inventory_change == pytest.approx(1 / 3 - 1)
    assert t.days_on_market == 19
    assert t.sale_to_list == pytest.approx(1.02)
    assert t.average_premium == pytest.approx((0.02 + 0 + 0.02) / 3)
    assert t.buyer_demand == "high" and t.median_price == 400_000


def test_recommendations_and_insights_follow_the_numbers() -> None:
    t = trends(SALES, end=END, days=30)
    recs = recommendations(t)
    assert [r["type"] for r in recs] == ["pricing", "marketing"]
    # Prices up 2.6% with fewer listings: an increase between half and all of the growth.
    assert recs[0]["action"] == "Consider a 1-3% price increase"
    assert recs[1]["action"] == "Focus on urgent buyer messaging"
    assert all(r["confidence"] == round(3 / 33, 2) for r in recs)
    found = insights(t, timeframe="30d")
    pricing = found[0]
    assert pricing["category"] == "pricing" and pricing["impact"] == "medium"
    assert pricing["data"] == {
        "averagePremium": round(0.04 / 3, 4),
        "sampleSize": 3,
        "timeframe": "30d",
    }
    assert "1.3% above asking" in pricing["insight"]
    assert found[1]["data"]["daysOnMarket"] == 19


def test_falling_prices_and_missing_history() -> None:
    falling = trends([*SALES[:3], Sale(500_000, 480_000, day(4, 1), day(4, 20))], end=END, days=30)
    assert falling.price_growth == pytest.approx(400_000 / 500_000 - 1)
    assert recommendations(falling)[0]["action"].startswith("Price competitively")
    alone = trends(SALES[:3], end=END, days=30)
    # No sale before, but two of these were listed in the previous window (May 1, Apr 30).
    assert alone.price_growth is None and alone.inventory_change == pytest.approx(1 / 2 - 1)
    assert recommendations(alone)[0]["action"] == "Price in line with recent comparable sales"
    empty = trends([], end=END, days=30)
    assert empty.sample_size == 0 and empty.buyer_demand is None
    assert recommendations(empty) == [] and insights(empty, timeframe="7d") == []


def test_demand_thresholds_and_confidence() -> None:
    assert demand(1.0, 30) == "high"
    assert demand(0.99, 20) == "moderate"
    assert demand(1.05, 45) == "moderate"
    assert demand(0.979, 10) == "low" and demand(1.1, 61) == "low"
    assert demand(None, None) is None
    assert confidence(0) == 0 and confidence(30) == 0.5 and confidence(270) == 0.9
