"""Driver ordering, impact cut-offs and the sign conventions of each prediction type."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest

from propensity.narratives import FeatureStats, PredictionFacts, narrate
from propensity.narratives.facts import (
    HIGH_IMPACT,
    MEDIUM_IMPACT,
    impact_of,
    rank_drivers,
)
from tests.narratives.inputs import definitions_for

ACCOUNT = definitions_for("CHURN", "account")
LEAD = definitions_for("CONVERSION", None)


def test_order_follows_contribution_magnitude() -> None:
    risks, strengths = rank_drivers(
        {"a": 0.3, "b": 1.2, "c": -0.9, "d": 0.6, "e": -0.1, "f": 0.0}, bad_sign=1
    )
    assert [d.name for d in risks] == ["b", "d", "a"]
    assert [d.name for d in strengths] == ["c", "e"]


def test_ties_are_ordered_by_name_not_by_input_order() -> None:
    first, _ = rank_drivers({"z": 0.5, "a": 0.5}, bad_sign=1)
    second, _ = rank_drivers({"a": 0.5, "z": 0.5}, bad_sign=1)
    assert [d.name for d in first] == [d.name for d in second] == ["a", "z"]


def test_impact_cut_offs() -> None:
    assert impact_of(1.0, 1.0) == "high"
    assert impact_of(HIGH_IMPACT, 1.0) == "high"
    assert impact_of(HIGH_IMPACT - 1e-9, 1.0) == "medium"
    assert impact_of(MEDIUM_IMPACT, 1.0) == "medium"
    assert impact_of(MEDIUM_IMPACT - 1e-9, 1.0) == "low"
    risks, strengths = rank_drivers({"a": 1.0, "b": 0.55, "c": 0.3, "d": -0.1}, bad_sign=1)
    assert [d.impact for d in risks] == ["high", "high", "medium"]
    assert [d.impact for d in strengths] == ["low"]


def test_impact_is_relative_to_the_largest_contribution_of_either_sign() -> None:
    # A risk half the size of the largest (a strength) is high, a tenth of it is low.
    risks, _ = rank_drivers({"strong_strength": -2.0, "r1": 1.0, "r2": 0.2}, bad_sign=1)
    assert [(d.name, d.impact) for d in risks] == [("r1", "high"), ("r2", "low")]


def test_negligible_and_non_finite_contributions_are_not_drivers() -> None:
    risks, strengths = rank_drivers(
        {"big": 10.0, "tiny": 0.05, "nan": float("nan"), "inf": float("inf"), "none": None},  # type: ignore[dict-item]
        bad_sign=1,
    )
    assert [d.name for d in risks] == ["big"]
    assert strengths == []


def test_a_limit_keeps_the_head_of_each_ranked_list() -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        values = rng.normal(size=40) * rng.choice([0.001, 1.0], size=40)
        values[rng.integers(0, 40, size=3)] = 0.0
        contributions = {f"f{i:02d}": float(v) for i, v in enumerate(values)}
        full = rank_drivers(contributions, bad_sign=-1)
        for limit in (0, 1, 3, 5, 40):
            cut = rank_drivers(contributions, bad_sign=-1, limit=limit)
            assert cut == (full[0][:limit], full[1][:limit])


def _facts(
    ptype: str, contributions: Mapping[str, float], values: Mapping[str, object]
) -> PredictionFacts:
    definitions = LEAD if ptype in ("CONVERSION", "TIME_TO_CLOSE") else ACCOUNT
    return PredictionFacts.build(
        prediction_type=ptype,
        contributions=contributions,
        values=values,
        definitions=definitions,
        probability=0.5 if ptype in ("CHURN", "CONVERSION") else None,
        predicted_value=20.0 if ptype in ("TIME_TO_CLOSE", "HEALTH_TREND") else None,
    )


def test_churn_risks_are_positive_contributions() -> None:
    narrative = narrate(
        facts=_facts(
            "CHURN",
            {"open_tickets": 0.8, "tenure_days": -0.6},
            {"open_tickets": 3, "tenure_days": 800},
        )
    )
    assert [f.feature for f in narrative.risk_factors] == ["open_tickets"]
    assert [f.feature for f in narrative.strengths] == ["tenure_days"]
    assert narrative.primary_drivers == ["3 unresolved support tickets"]


def test_conversion_risks_are_negative_contributions() -> None:
    narrative = narrate(
        facts=_facts(
            "CONVERSION",
            {"email_open_count": 0.8, "days_since_last_activity": -0.6},
            {"email_open_count": 12, "days_since_last_activity": 21},
        )
    )
    assert [f.feature for f in narrative.risk_factors] == ["days_since_last_activity"]
    assert [f.feature for f in narrative.strengths] == ["email_open_count"]
    assert narrative.risk_factors[0].description == "No activity in the last 21 days"


@pytest.mark.parametrize(
    ("ptype", "risk_sign"),
    [("CHURN", 1), ("TIME_TO_CLOSE", 1), ("CONVERSION", -1), ("HEALTH_TREND", -1)],
)
def test_sign_convention_per_type(ptype: str, risk_sign: int) -> None:
    values = {"email_open_count": 4, "open_tickets": 2}
    feature = "email_open_count" if ptype in ("CONVERSION", "TIME_TO_CLOSE") else "open_tickets"
    narrative = narrate(facts=_facts(ptype, {feature: 0.7 * risk_sign}, values))
    assert [f.feature for f in narrative.risk_factors] == [feature]
    assert narrative.strengths == []


def test_factor_shapes_for_both_documents() -> None:
    narrative = narrate(
        facts=_facts(
            "CONVERSION",
            {"activity_velocity": -0.5, "activities_7d": -0.1},
            {"activity_velocity": 0.5, "activities_7d": 1, "activities_30d": 12},
        )
    )
    factor = narrative.risk_factors[0]
    assert factor.to_dict() == {
        "factor": "Activity Velocity",
        "impact": "high",
        "description": "0.5 activities per day over the last 30 days",
    }
    lead = factor.to_dict(with_value=True)
    assert lead["currentValue"] == 0.5
    # 1 activity in the last 7 days against 11 in the 23 before: a lower daily rate, in the
    # lead document's words.
    assert lead["trend"] == "declining"


def test_trend_is_stable_when_there_is_no_history_to_compare() -> None:
    narrative = narrate(
        facts=_facts("CONVERSION", {"activity_velocity": -0.5}, {"activity_velocity": 0.5})
    )
    assert narrative.risk_factors[0].trend == "stable"


def test_adjectives_need_training_statistics() -> None:
    facts = _facts("CONVERSION", {"activity_velocity": -0.5}, {"activity_velocity": 0.5})
    assert narrate(facts=facts).risk_factors[0].factor == "Activity Velocity"
    with_stats = PredictionFacts.build(
        prediction_type="CONVERSION",
        contributions={"activity_velocity": -0.5},
        values={"activity_velocity": 0.5},
        definitions=LEAD,
        probability=0.2,
        feature_stats={"activity_velocity": FeatureStats(p10=0.6, p50=1.8, p90=4.0)},
    )
    factor = narrate(facts=with_stats).risk_factors[0]
    assert factor.factor == "Low Activity Velocity"
    assert factor.description.endswith("(low; median 1.8)")


def test_model_statistics_are_read_from_the_binned_baseline() -> None:
    # Deciles 0..10 with equal shares: p10 = 1, p50 = 5, p90 = 9.
    raw = {"bins": {"edges": [float(i) for i in range(11)], "proportions": [0.1] * 10}}
    stats = FeatureStats.from_model_stats(raw)
    assert stats is not None
    assert (stats.p10, stats.p50, stats.p90) == pytest.approx((1.0, 5.0, 9.0))
    # Merged edges (many zeros) keep the right quantiles: 60% of rows are 0.
    merged = {"bins": {"edges": [0.0, 1.0, 5.0], "proportions": [0.6, 0.4]}}
    parsed = FeatureStats.from_model_stats(merged)
    assert parsed is not None and parsed.p50 is not None
    assert parsed.p50 < 1.0
    assert FeatureStats.from_model_stats({"bins": {"edges": [], "proportions": []}}) is None


def test_levels_and_urgency() -> None:
    facts = PredictionFacts.build(
        prediction_type="CHURN",
        contributions={"open_tickets": 1.0},
        values={"open_tickets": 2, "days_to_renewal": 20},
        definitions=ACCOUNT,
        probability=0.6,
        threshold=0.4,
    )
    narrative = narrate(facts=facts)
    assert narrative.level == "high"
    # A renewal within 30 days makes a high risk one step more urgent.
    assert narrative.intervention_urgency == "immediate"
    low = narrate(
        facts=PredictionFacts.build(
            prediction_type="CHURN", contributions={}, values={}, probability=0.1, threshold=0.4
        )
    )
    assert (low.level, low.intervention_urgency) == ("low", "monitor")
    caller = narrate(
        facts=PredictionFacts.build(
            prediction_type="CONVERSION", contributions={}, values={}, probability=0.1, level="HOT"
        )
    )
    assert caller.level == "HOT"
    assert caller.intervention_urgency is None
