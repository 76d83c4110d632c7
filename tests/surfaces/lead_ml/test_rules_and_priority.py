"""The documented pure rules: rule-based scorer, score breakdown, days cap, priority, tiers."""

from __future__ import annotations

import pytest

from propensity.predictions import lead_rules as rules
from propensity.predictions.lead_scores import (
    MAX_DAYS,
    Days,
    largest_remainder,
    lead_score,
    level,
    level_cutoffs,
    priority_score,
    score_breakdown,
    tier_for_rank,
    value_reference,
)
from propensity.serving.lead_ranking import distinct_patterns

HOT_LEAD = {
    "demographic": {
        "hasCompany": True,
        "hasTitle": True,
        "hasPhone": False,
        "emailDomainType": "corporate",
        "titleSeniority": "vp",
    },
    "behavioral": {
        "meetingCount": 1,
        "formSubmitCount": 2,
        "emailClickCount": 0,
        "highValueActionCount": 3,
    },
    "temporal": {"daysSinceLastActivity": 3.5},
    "engagement": {"emailOpenRate": None, "isInActiveSequence": True},
}


def test_rule_based_scorer_adds_documented_points() -> None:
    result = rules.score_lead(HOT_LEAD)
    assert result.by_group == {
        "demographic": 5 + 5 + 10 + 15,
        "behavioral": 15 + 10 + 5,
        "temporal": 10,
        "engagement": 5,
    }
    assert result.points == 80 and result.probability == 0.8
    assert result.unknown == ["emailOpenRate"]
    assert result.confidence == pytest.approx(0.5 * (1 - 1 / len(rules.RULES)), abs=1e-4)
    empty = rules.score_lead({})
    assert empty.points == 0 and empty.probability == 0.0
    # Every rule but the booleans lacks its input: confidence falls with the data.
    assert empty.confidence < result.confidence
    assert rules.score_lead({"temporal": {"daysSinceLastActivity": 20}}).points == 5
    best = {
        "demographic": {**HOT_LEAD["demographic"], "hasPhone": True},
        "behavioral": {**HOT_LEAD["behavioral"], "emailClickCount": 4},
        "temporal": {"daysSinceLastActivity": 0},
        "engagement": {"emailOpenRate": 0.5, "isInActiveSequence": True},
    }
    top = rules.score_lead(best)
    assert top.points == 95 and top.points <= rules.MAX_POINTS and top.unknown == []
    assert top.risk_factors() == [] and top.recommendations() == []


def test_rule_based_risk_factors_are_the_rules_that_fell_short() -> None:
    result = rules.score_lead(HOT_LEAD)
    factors = result.risk_factors()
    # Known inputs short of their points, largest first; unknown emailOpenRate is not one.
    assert [(f["factor"], f["impact"], f["currentValue"]) for f in factors] == [
        ("No Phone Number", "low", False),
        ("No Email Clicks", "low", 0),
    ]
    assert all(
        set(f) == {"factor", "impact", "currentValue", "trend", "description"} for f in factors
    )
    # One snapshot of features, no history: stable; yes/no values as the document's numbers.
    assert {f["trend"] for f in factors} == {"stable"}
    assert [type(f["currentValue"]) for f in factors] == [int, int]
    manager = rules.score_lead(
        {"demographic": {"titleSeniority": "manager"}, "behavioral": {"meetingCount": 0}}
    )
    assert manager.risk_factors()[0]["factor"] == "No Meeting Yet"
    assert manager.risk_factors()[0]["impact"] == "high"
    junior = [f for f in manager.risk_factors() if f["factor"] == "Junior Title"]
    assert junior and "7 of 15 points" in junior[0]["description"]
    advice = result.recommendations()
    assert [r["action"] for r in advice] == [
        "Ask for a phone number to set up a call",
        "Send content matched to the lead's interests",
    ]
    assert all(
        set(r) == {"priority", "action", "rationale", "expectedImpact", "timeframe"} and r["action"]
        for r in advice
    )
    stored = result.outputs()
    assert stored["riskFactors"] == factors and stored["recommendations"] == advice


@pytest.mark.parametrize(
    ("total", "shares", "expected"),
    [
        (10, [1 / 3, 1 / 3, 1 / 3], [4, 3, 3]),
        (78, [0.25, 0.25, 0.25, 0.25], [20, 20, 19, 19]),
        (7, [0.5, 0.5, 0.0, 0.0], [4, 3, 0, 0]),
        (0, [0.2, 0.8], [0, 0]),
    ],
)
def test_largest_remainder_adds_up(total: int, shares: list[float], expected: list[int]) -> None:
    assert largest_remainder(total, shares) == expected
    assert sum(largest_remainder(total, shares)) == total


def test_score_breakdown_uses_positive_group_contributions() -> None:
    groups = {"demographic": 0.6, "behavioral": 0.3, "temporal": -1.0, "engagement": 0.1}
    breakdown = score_breakdown(78, groups)
    assert breakdown == {"demographic": 47, "behavioral": 23, "temporal": 0, "engagement": 8}
    assert sum(breakdown.values()) == 78
    # Nothing raises the odds: the magnitudes share the (low) score.
    down = score_breakdown(5, {"demographic": -1, "behavioral": -3, "temporal": 0})
    assert down == {"demographic": 1, "behavioral": 4, "temporal": 0, "engagement": 0}
    assert score_breakdown(3, {}) == {
        "demographic": 1,
        "behavioral": 1,
        "temporal": 1,
        "engagement": 0,
    }
    assert lead_score(0.725) == 72 and lead_score(1.2) == 100 and lead_score(-1) == 0


def test_days_are_capped_at_a_year() -> None:
    stale = Days.of(20_000.4, 300.2, 90_000)
    assert (stale.median, stale.low, stale.high, stale.capped) == (MAX_DAYS, 300, MAX_DAYS, True)
    soon = Days.of(21.4, 13.6, 30.2)
    assert (soon.median, soon.low, soon.high, soon.capped) == (21, 14, 30, False)


def test_priority_is_expected_value_on_a_fixed_scale() -> None:
    median, reference = value_reference([100.0, 200.0, 300.0, 400.0, 1000.0, None, 0.0])  # type: ignore[list-item]
    assert median == 300.0 and reference == pytest.approx(760.0)
    base = {"median_value": median, "reference_value": reference, "half_life_days": 90.0}
    certain_big_now = priority_score(probability=1.0, value=5000.0, days=0, **base)
    assert certain_big_now == 100.0
    # Value below the reference scales linearly; unknown value uses the median.
    assert priority_score(probability=0.5, value=380.0, days=None, **base) == 25.0
    assert priority_score(probability=0.5, value=None, days=None, **base) == pytest.approx(
        round(100 * 0.5 * 300 / 760, 1)
    )
    # Every half-life halves it.
    assert priority_score(probability=0.8, value=760.0, days=90, **base) == 40.0
    assert priority_score(probability=0.8, value=760.0, days=180, **base) == 20.0
    # No known values anywhere: probability and time only.
    assert (
        priority_score(
            probability=0.3,
            value=None,
            median_value=None,
            reference_value=None,
            days=None,
            half_life_days=90,
        )
        == 30.0
    )


def test_tiers_by_rank_percentile_and_levels() -> None:
    cutoffs = (10, 30, 60)
    tiers = [tier_for_rank(rank, 20, cutoffs) for rank in range(1, 21)]
    assert tiers == ["top"] * 2 + ["high"] * 4 + ["medium"] * 6 + ["low"] * 8
    assert tier_for_rank(1, 1, cutoffs) == "top"
    assert [tier_for_rank(r, 3, cutoffs) for r in (1, 2, 3)] == ["top", "medium", "low"]
    hot, warm = level_cutoffs(0.3, hot=None, warm=None)
    assert (hot, warm) == (0.3, 0.15)
    assert [level(p, hot=hot, warm=warm) for p in (0.31, 0.2, 0.1)] == ["HOT", "WARM", "COLD"]
    assert level_cutoffs(None, hot=0.9, warm=None) == (0.9, 0.25)


def test_common_patterns_name_each_trait_once() -> None:
    found = [
        "Newer leads (median 15 days for top leads vs 237 days for all leads)",
        "Recently active (median 3 days for top leads vs 118 days for all leads)",
        "Newer leads (median 2 for top leads vs 33 for all leads)",
        "High activity velocity (median 0.28 for top leads vs 0 for all leads)",
    ]
    assert distinct_patterns(found) == [found[0], found[1], found[3]]
