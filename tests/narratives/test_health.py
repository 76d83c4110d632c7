"""Health anomalies against the account's own robust baseline, strength/risk areas, insights."""

from __future__ import annotations

import random
from datetime import date, timedelta

from propensity.narratives import (
    classify_areas,
    detect_anomalies,
    health_insights,
    health_narrative,
)
from propensity.narratives.health import ANOMALY_K, robust_baseline, slope_per_30_days

START = date(2024, 1, 1)


def _weekly(scores: list[float]) -> dict[date, float]:
    return {START + timedelta(days=7 * i): s for i, s in enumerate(scores)}


def _noisy(rng: random.Random, level: float, spread: float, n: int) -> list[float]:
    return [round(level + rng.gauss(0, spread), 1) for _ in range(n)]


def test_sudden_drop_against_own_history_is_flagged() -> None:
    rng = random.Random(1)
    history = [*_noisy(rng, 72, 1.5, 12), 50.0]
    (anomaly,) = detect_anomalies(dimensions={"engagement": _weekly(history)})
    assert anomaly.dimension == "engagement"
    assert anomaly.robust_z <= -ANOMALY_K
    assert anomaly.severity == "high"
    assert anomaly.description.startswith(
        "Unusual drop in engagement: dropped to 50 against a usual"
    )
    assert anomaly.to_dict().keys() == {"dimension", "description", "severity"}


def test_noisy_but_stable_dimension_is_not_flagged() -> None:
    rng = random.Random(2)
    for _ in range(50):
        history = _noisy(rng, 60, 6, 13)
        # The latest point is drawn from the same noise as the rest.
        flagged = detect_anomalies(dimensions={"support_satisfaction": _weekly(history)})
        assert all(abs(a.robust_z) < 2 * ANOMALY_K for a in flagged)
    stable = [*_noisy(random.Random(3), 60, 6, 12), 58.0]
    assert detect_anomalies(dimensions={"support_satisfaction": _weekly(stable)}) == []


def test_same_absolute_drop_is_flagged_only_on_a_quiet_dimension() -> None:
    quiet = [70.0, 71.0, 70.5, 69.5, 70.0, 70.5, 71.0, 69.0, 70.0, 70.0]
    volatile = [70.0, 52.0, 88.0, 61.0, 79.0, 48.0, 90.0, 58.0, 83.0, 70.0]
    drop = 20.0
    dims = {
        "engagement": _weekly([*quiet, quiet[-1] - drop]),
        "support_satisfaction": _weekly([*volatile, 70.0 - drop]),
    }
    assert [a.dimension for a in detect_anomalies(dimensions=dims)] == ["engagement"]


def test_flat_history_uses_the_scale_floor() -> None:
    # MAD is 0 on a constant history; a 1-point wobble must not be an anomaly, 10 points is.
    assert robust_baseline([80.0] * 8) == (80.0, 1.0)
    assert detect_anomalies(dimensions={"d": _weekly([80.0] * 8 + [79.0])}) == []
    (spike,) = detect_anomalies(dimensions={"d": _weekly([80.0] * 8 + [90.0])})
    assert spike.severity == "low" and spike.description.startswith("Unusual rise")


def test_short_histories_are_not_judged() -> None:
    assert detect_anomalies(dimensions={"d": _weekly([80.0, 80.0, 80.0, 20.0])}) == []


def test_strength_and_risk_areas() -> None:
    dims = {
        "product_adoption": _weekly([85.0] * 10),
        "support_satisfaction": _weekly([78.0, 79.0, 80.0, 79.0, 78.0, 80.0, 79.0, 80.0]),
        # High but falling fast: a risk, not a strength.
        "engagement": _weekly([95.0 - 3.0 * i for i in range(10)]),
        "executive_relationship": _weekly([40.0] * 10),
        "middling": _weekly([60.0] * 10),
    }
    strengths, risks = classify_areas(dimensions=dims)
    assert strengths == ["product_adoption", "support_satisfaction"]
    assert risks == ["executive_relationship", "engagement"]
    slope = slope_per_30_days(dims["engagement"])
    assert slope is not None and abs(slope - (-3.0 / 7 * 30)) < 1e-9


def test_anomalous_drop_makes_a_risk_area() -> None:
    dims = {"engagement": _weekly([80.0, 81.0, 80.0, 79.0, 80.0, 81.0, 80.0, 72.0])}
    strengths, risks = classify_areas(dimensions=dims)
    assert strengths == [] and risks == ["engagement"]


def test_trend_insight_from_real_values() -> None:
    overall = {START: 80.0, START + timedelta(days=30): 75.0, START + timedelta(days=60): 66.0}
    insights = health_insights(overall=overall, predicted_score=58.0)
    assert insights[0].to_dict() == {
        "type": "trend",
        "severity": "warning",
        "message": "Health score has declined 12% over the past 30 days (from 75 to 66)",
    }
    assert insights[1].message == "Health score is forecast at 58 in 30 days, down from 66"
    assert insights[1].severity == "warning"


def test_no_trend_insight_without_a_comparable_point() -> None:
    assert health_insights(overall={START: 70.0}) == []
    far = {START: 70.0, START + timedelta(days=200): 50.0}
    assert health_insights(overall=far) == []


def test_dimension_moves_and_recommendations() -> None:
    dims = {
        "executive_relationship": _weekly([60.0, 60.0, 59.0, 58.0, 56.0, 50.0, 45.0, 40.0, 35.0]),
        "product_adoption": _weekly([85.0] * 9),
    }
    result = health_narrative(dimensions=dims, overall=_weekly([70.0] * 9))
    moves = [i for i in result.insights if i.type == "dimension"]
    assert [i.message for i in moves] == [
        "Executive relationship fell 21 points over the past 28 days (from 56 to 35)"
    ]
    assert result.risk_areas == ["executive_relationship"]
    assert result.strength_areas == ["product_adoption"]
    (rec,) = result.recommendations
    assert rec.action == "Re-engage executive sponsor"
    assert rec.rationale.startswith("Executive relationship score is 35, falling")
    assert rec.priority == "high"
