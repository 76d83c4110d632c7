"""A lead risk factor's trend and current value in the lead-ml document's words and types
(narratives/words_lead.py)."""

from __future__ import annotations

from propensity.narratives.facts import Family
from propensity.narratives.scene import Scene
from propensity.narratives.words_lead import (
    MISSING_VALUE,
    factor_trend,
    factor_value,
    lead_factor_trend,
)


def _lead(**values: float) -> Scene:
    return Scene(values=values, audience="lead")


def test_trend_words_are_the_documents() -> None:
    assert factor_trend("increasing") == factor_trend("improving") == "improving"
    assert factor_trend("decreasing") == factor_trend("declining") == "declining"
    assert factor_trend("stable") == factor_trend(None) == "stable"


def test_activity_factors_follow_the_leads_own_activity() -> None:
    # 6 activities in the last 7 days against 2 in the 23 before: rising.
    rising = _lead(activities_7d=6, activities_30d=8, days_since_created=60)
    # None in the last 7 days against 10 before: falling.
    falling = _lead(activities_7d=0, activities_30d=10, days_since_created=60)
    # Rates within 10% of each other: stable.
    steady = _lead(activities_7d=7, activities_30d=30, days_since_created=60)
    assert lead_factor_trend(Family.LEAD_ENGAGEMENT, None, rising) == "improving"
    assert lead_factor_trend(Family.EMAIL, None, falling) == "declining"
    assert lead_factor_trend(Family.STALE, None, steady) == "stable"
    # An attribute has no history: stable whatever the lead does.
    assert lead_factor_trend(Family.SENIOR_TITLE, None, rising) == "stable"
    # A lead younger than 8 days has no earlier window to compare with.
    young = _lead(activities_7d=5, activities_30d=5, days_since_created=3)
    assert lead_factor_trend(Family.LEAD_ENGAGEMENT, None, young) == "stable"


def test_values_have_the_documents_types() -> None:
    assert factor_value(True) == 1 and type(factor_value(True)) is int
    assert factor_value(False) == 0
    assert factor_value(0.25) == 0.25 and factor_value(3) == 3
    assert factor_value("referral") == "referral"
    assert factor_value(None) == MISSING_VALUE
    assert factor_value(float("nan")) == MISSING_VALUE
