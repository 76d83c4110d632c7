"""The grounding checks: an answer may word the facts, never add to them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from propensity.llm.facts import ContributionFact, Facts
from propensity.llm.grounding import Rejected, allowed_numbers, check, numbers_in_text
from tests.llm.server import grounded_answer


def churn_facts() -> Facts:
    return Facts(
        task="churn",
        subject="account",
        prediction={"probability": 0.4237, "riskCategory": "high", "predictionWindowDays": 90},
        contributions=[
            ContributionFact(
                feature="health_change_60d",
                label="Health Score Decline",
                value=-26.0,
                contribution=0.81,
                effect="risk",
                impact="high",
                description="Health score dropped from 78 to 52 over 60 days",
            ),
            ContributionFact(
                feature="open_tickets",
                label="Open Support Tickets",
                value=3,
                contribution=0.35,
                effect="risk",
                impact="medium",
                description="3 unresolved support tickets",
            ),
        ],
        candidates=[
            {
                "action": "Schedule executive business review",
                "priority": "high",
                "timeframe": "Within 5 days",
                "expectedImpact": "Re-establish strategic alignment",
                "rationale": "Health score dropped from 78 to 52 over 60 days.",
            },
            {
                "action": "Escalate open support tickets",
                "priority": "medium",
                "timeframe": "Within 2 weeks",
                "expectedImpact": "Remove the blockers",
                "rationale": "3 unresolved support tickets.",
            },
        ],
    )


def good() -> dict[str, Any]:
    return grounded_answer(churn_facts().to_dict())


def test_a_grounded_answer_passes() -> None:
    answer = good()
    answer["explanation"] = (
        "Churn risk is high at 42% (0.42; precisely 0.4237) within 90 days: the health score "
        "fell 26 points, from 78 to 52, and 3 tickets are open."
    )
    assert check(json.dumps(answer), churn_facts()) == answer


def test_a_fenced_answer_is_read() -> None:
    assert check("```json\n" + json.dumps(good()) + "\n```", churn_facts())


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda a: a["primaryChurnDrivers"].append({"feature": "zodiac", "text": "x"}), "driver"),
        (lambda a: a.update(explanation="Churn risk is 47%."), "number"),
        (lambda a: a.update(explanation="Churn risk 0.5 in 120 days."), "number"),
        (lambda a: a["recommendations"].pop(), "candidate"),
        (lambda a: a["recommendations"][0].update(action="Offer a discount"), "candidates"),
        (lambda a: a.update(extra="field"), "unexpected"),
        (lambda a: a.pop("explanation"), "missing"),
        (lambda a: a.update(explanation=""), "non-empty"),
        (lambda a: a.update(primaryChurnDrivers=[]), "no driver"),
    ],
)
def test_answers_that_add_to_the_facts_are_rejected(change: Any, reason: str) -> None:
    answer = good()
    change(answer)
    with pytest.raises(Rejected) as rejected:
        check(json.dumps(answer), churn_facts())
    assert reason in rejected.value.reason


def test_malformed_json_is_rejected() -> None:
    with pytest.raises(Rejected, match="not valid JSON"):
        check('{"explanation": "Churn', churn_facts())


def test_numbers_are_read_with_their_precision_and_percent() -> None:
    assert numbers_in_text("From 1,250 to $3.5k, 42% and -26 on 2026-03-01") == [
        (1250.0, 0, False),
        (3.5, 1, False),
        (42.0, 0, True),
        (26.0, 0, False),
        (2026.0, 0, False),
        (3.0, 0, False),
        (1.0, 0, False),
    ]
    allowed = allowed_numbers({"p": 0.42, "text": "dropped 26 points"})
    assert 42.0 in allowed and 26.0 in allowed and 0.42 in allowed
