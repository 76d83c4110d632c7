"""Every number in every generated text is an input value or derived from the inputs by a
documented rule, for every prediction type, realistic and random inputs."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from propensity.narratives import (
    HealthPoint,
    common_patterns,
    decision_factors,
    health_narrative,
    lead_reasoning,
    narrate,
)
from propensity.narratives.playbook import TIMEFRAMES
from tests.narratives.inputs import narrative_texts, random_cases, timeframe_ok
from tests.narratives.numbers import Grounds, check, prediction_grounds


def test_checker_flags_an_invented_number() -> None:
    grounds = Grounds()
    grounds.add(52, 78, 0.72 * 100)
    assert grounds.ungrounded("Health score dropped from 78 to 52; 72% probability") == []
    assert grounds.ungrounded("3 unresolved support tickets") == ["3"]
    assert grounds.ungrounded("Churn risk of 73%") == ["73"]
    # Rounding is allowed only to the printed precision.
    grounds.add(0.333)
    assert grounds.ungrounded("0.33 activities per day") == []
    assert grounds.ungrounded("0.34 activities per day") == ["0.34"]
    grounds.add(1234567.8)
    assert grounds.ungrounded("$1,234,568 purchased") == []


@pytest.mark.parametrize("seed", range(4))
def test_random_entities_print_only_grounded_numbers(seed: int) -> None:
    cases = list(random_cases(60, seed=seed))
    for facts in cases:
        narrative = narrate(facts=facts)
        grounds = prediction_grounds(facts)
        texts = narrative_texts(narrative)
        texts += decision_factors(facts=facts, top_n=5)
        if facts.audience == "lead":
            texts.append(lead_reasoning(facts=facts))
        assert check(grounds, texts) == [], facts.prediction_type
        assert all(timeframe_ok(r.timeframe) for r in narrative.recommendations)
        for r in narrative.recommendations:
            if r.timeframe.startswith("Before"):
                assert grounds.ungrounded(r.timeframe) == []


def test_every_prediction_type_has_an_explanation_with_its_facts() -> None:
    seen = set()
    for facts in random_cases(20, seed=11):
        narrative = narrate(facts=facts)
        seen.add(narrative.prediction_type)
        assert narrative.explanation
        if facts.probability is not None:
            assert f"{round(facts.probability * 100)}%" in narrative.explanation
    assert seen == {"CHURN", "CONVERSION", "TIME_TO_CLOSE", "HEALTH_TREND"}


def _walk(rng: random.Random, start: float, noise: float, n: int) -> list[float]:
    out, value = [], start
    for _ in range(n):
        value = min(100.0, max(0.0, value + rng.gauss(0, noise)))
        out.append(round(value, 1))
    return out


@pytest.mark.parametrize("seed", range(20))
def test_health_narrative_prints_only_grounded_numbers(seed: int) -> None:
    rng = random.Random(seed)
    start = date(2024, 1, 1)
    n = rng.randint(2, 20)
    days = [start + timedelta(days=7 * i + rng.randint(0, 2)) for i in range(n)]
    dims = {
        name: dict(zip(days, _walk(rng, rng.uniform(20, 90), rng.uniform(0.5, 8), n), strict=True))
        for name in ("engagement", "product_adoption", "support_satisfaction", "custom_dim")
    }
    overall = dict(zip(days, _walk(rng, rng.uniform(20, 90), 3, n), strict=True))
    predicted = round(rng.uniform(0, 100), 1)
    result = health_narrative(dimensions=dims, overall=overall, predicted_score=predicted)

    grounds = Grounds()
    grounds.add(predicted, 30)
    series = [overall, *dims.values()]
    for history in series:
        ordered = sorted(history.items())
        scores = [v for _, v in ordered]
        grounds.add(*scores)
        grounds.add(len(scores) - 1)
        for i, (d0, v0) in enumerate(ordered):
            for d1, v1 in ordered[i + 1 :]:
                grounds.add((d1 - d0).days, v1 - v0)
                if v0:
                    grounds.add((v1 - v0) / v0 * 100)
        # Robust baseline: median of the earlier scores.
        earlier = sorted(scores[:-1])
        if earlier:
            mid = len(earlier) // 2
            grounds.add(earlier[mid] if len(earlier) % 2 else (earlier[mid - 1] + earlier[mid]) / 2)
        # Least-squares slope over the last 90 days, per 30 days.
        end = ordered[-1][0]
        window = [((d - end).days, v) for d, v in ordered if (end - d).days <= 90]
        if len(window) >= 3:
            mx = sum(x for x, _ in window) / len(window)
            my = sum(y for _, y in window) / len(window)
            var = sum((x - mx) ** 2 for x, _ in window)
            if var:
                grounds.add(30 * sum((x - mx) * (y - my) for x, y in window) / var)
    texts = [i.message for i in result.insights] + [a.description for a in result.anomalies]
    texts += [r.rationale for r in result.recommendations]
    assert check(grounds, texts) == []
    documented = set(TIMEFRAMES["account"].values())
    assert all(r.timeframe in documented for r in result.recommendations)


@pytest.mark.parametrize("seed", range(10))
def test_common_patterns_print_only_grounded_numbers(seed: int) -> None:
    rng = random.Random(seed)
    leads = [
        {
            "email_domain_type": rng.choice(["corporate", "free", "other"]),
            "has_phone": rng.choice([0.0, 1.0]),
            "activity_velocity": round(rng.uniform(0, 3), 3),
            "budget": round(rng.uniform(1_000, 900_000), 2),
            "email_open_rate": round(rng.random(), 3),
        }
        for _ in range(rng.randint(10, 60))
    ]
    leads.sort(key=lambda lead: -float(lead["activity_velocity"]))  # type: ignore[arg-type]
    top = leads[: rng.randint(3, 8)]
    patterns = common_patterns(top_leads=top, all_leads=leads)
    grounds = Grounds()
    for group in (top, leads):
        for k in range(len(group) + 1):
            grounds.add(k / len(group) * 100)
        for name in ("activity_velocity", "budget", "email_open_rate"):
            values = sorted(float(lead[name]) for lead in group)  # type: ignore[arg-type]
            mid = len(values) // 2
            median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
            grounds.add(median, median * 100)
    assert check(grounds, patterns) == []


def test_history_fact_grounds_the_current_score() -> None:
    from propensity.narratives import EntityFacts, PredictionFacts
    from tests.narratives.inputs import definitions_for

    facts = PredictionFacts.build(
        prediction_type="CHURN",
        kind="account",
        contributions={"health_change_60d": 1.0},
        values={"health_change_60d": -26.0},
        definitions=definitions_for("CHURN", "account"),
        probability=0.7,
        facts=EntityFacts(
            health_history=[
                HealthPoint(on=date(2024, 3, 1), score=52.0),
                HealthPoint(on=date(2024, 1, 1), score=78.0),
            ]
        ),
    )
    narrative = narrate(facts=facts)
    assert (
        narrative.risk_factors[0].description == "Health score dropped from 78 to 52 over 60 days"
    )
    assert check(prediction_grounds(facts), narrative_texts(narrative)) == []
