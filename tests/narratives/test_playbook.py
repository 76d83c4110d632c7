"""Each known driver family yields its recommendation; duplicates are merged; unknown features
still yield text."""

from __future__ import annotations

import pytest

from propensity.narratives import PredictionFacts, merge, narrate
from propensity.narratives.facts import Driver, Family
from propensity.narratives.playbook import TIMEFRAMES, recommend, shift
from propensity.narratives.scene import Phrase
from tests.narratives.inputs import definitions_for

ACCOUNT = definitions_for("CHURN", "account")
SUBSCRIBER = definitions_for("CHURN", "subscriber")
LEAD = definitions_for("CONVERSION", None)


def _actions(
    ptype: str, kind: str | None, contributions: dict[str, float], values: dict[str, object]
) -> list[str]:
    definitions = {"account": ACCOUNT, "subscriber": SUBSCRIBER}.get(kind or "", LEAD)
    facts = PredictionFacts.build(
        prediction_type=ptype,
        kind=kind,
        contributions=contributions,
        values=values,
        definitions=definitions,
        probability=0.5,
    )
    return [r.action for r in narrate(facts=facts).recommendations]


@pytest.mark.parametrize(
    ("kind", "feature", "value", "action"),
    [
        ("account", "health_change_60d", -20.0, "Schedule executive business review"),
        ("account", "login_trend", -1.0, "Schedule executive business review"),
        ("account", "open_tickets", 3.0, "Escalate open support tickets"),
        ("account", "days_since_executive_meeting", 45.0, "Re-engage executive sponsor"),
        ("account", "health_executive_relationship", 30.0, "Re-engage executive sponsor"),
        ("account", "feature_use_30d", 2.0, "Run a product adoption workshop"),
        ("account", "days_to_renewal", 20.0, "Prepare the renewal conversation early"),
        ("subscriber", "payment_failed_90d", 2.0, "Update billing details with the customer"),
        ("subscriber", "watch_hours_30d", 1.0, "Send personalised content recommendations"),
        ("subscriber", "watch_trend", -0.7, "Send personalised content recommendations"),
    ],
)
def test_churn_driver_families(kind: str, feature: str, value: float, action: str) -> None:
    assert _actions("CHURN", kind, {feature: 1.0}, {feature: value}) == [action]


@pytest.mark.parametrize(
    ("feature", "value", "sign", "action"),
    [
        ("email_open_count", 12.0, 1.0, "Schedule a demo call"),
        ("total_engagement_score", 80.0, 1.0, "Schedule a demo call"),
        ("title_seniority", "vp", 1.0, "Engage at executive level"),
        ("days_since_last_activity", 30.0, -1.0, "Re-engage with a personalised follow-up"),
        ("recency_score", 0.1, -1.0, "Re-engage with a personalised follow-up"),
        ("has_phone", 0.0, -1.0, "Enrich the lead's contact details"),
        ("is_in_active_sequence", 0.0, -1.0, "Enroll the lead in a nurture sequence"),
        (
            "title_seniority",
            "individual_contributor",
            -1.0,
            "Identify the decision-maker at the company",
        ),
    ],
)
def test_lead_driver_families(feature: str, value: object, sign: float, action: str) -> None:
    assert _actions("CONVERSION", None, {feature: sign}, {feature: value}) == [action]


def test_strengths_of_customers_do_not_become_recommendations() -> None:
    assert _actions("CHURN", "account", {"open_tickets": -1.0}, {"open_tickets": 0.0}) == []


def test_duplicate_actions_are_merged_with_both_facts() -> None:
    facts = PredictionFacts.build(
        prediction_type="CHURN",
        kind="account",
        contributions={"health_change_60d": 1.0, "login_trend": 0.8, "health_slope_90d": 0.1},
        values={
            "health_score_current": 52.0,
            "health_change_60d": -26.0,
            "login_30d": 4.0,
            "login_90d": 40.0,
            "login_trend": -1.2,
            "health_slope_90d": -4.0,
        },
        definitions=ACCOUNT,
        probability=0.72,
        threshold=0.45,
    )
    recommendations = narrate(facts=facts).recommendations
    assert [r.action for r in recommendations] == ["Schedule executive business review"]
    only = recommendations[0]
    assert only.features == ("health_change_60d", "login_trend", "health_slope_90d")
    assert only.rationale.startswith("Health score dropped from 78 to 52 over 60 days; logins fell")
    assert only.priority == "high" and only.timeframe == "Within 5 days"
    assert only.to_dict().keys() == {
        "action",
        "priority",
        "timeframe",
        "expectedImpact",
        "rationale",
    }


def test_unknown_features_yield_a_generic_review() -> None:
    actions = _actions("CHURN", "account", {"mystery_column": 1.0}, {"mystery_column": "x"})
    assert actions == ["Review mystery column with the customer"]
    lead = _actions("CONVERSION", None, {"mystery_column": -1.0}, {"mystery_column": 3.0})
    assert lead == ["Review mystery column before the next contact"]


def test_imported_columns_with_known_meaning() -> None:
    assert _actions("CHURN", "subscriber", {"contract": 1.0}, {"contract": "Month-to-month"}) == [
        "Offer a discounted annual plan"
    ]
    assert _actions("CHURN", "account", {"monthly_charges": 1.0}, {"monthly_charges": 99.0}) == [
        "Review pricing and plan fit"
    ]
    # A payment method is not a payment failure.
    assert _actions("CHURN", "account", {"payment_method": 1.0}, {"payment_method": "Check"}) == [
        "Review payment method with the customer"
    ]


def test_priority_follows_impact_and_urgency() -> None:
    assert shift("medium", "elevated") == "high"
    assert shift("high", "elevated") == "high"
    assert shift("medium", "low") == "low"
    assert shift("low", "low") == "low"
    phrase = Phrase(family=Family.BILLING, title="Payment Failures", text="2 payment failures")
    weak = Driver(name="payment_failed_90d", contribution=0.1, impact="low", risk=True)
    strong = Driver(name="open_tickets", contribution=1.0, impact="high", risk=True)
    tickets = Phrase(
        family=Family.SUPPORT_BACKLOG, title="Tickets", text="3 unresolved support tickets"
    )
    out = recommend(
        drivers=[(weak, phrase), (strong, tickets)], audience="account", urgency="normal"
    )
    assert [(r.action, r.priority) for r in out] == [
        ("Escalate open support tickets", "high"),
        ("Update billing details with the customer", "low"),
    ]
    assert out[0].timeframe == TIMEFRAMES["account"]["high"]


def test_renewal_timeframe_uses_the_days_to_renewal() -> None:
    facts = PredictionFacts.build(
        prediction_type="CHURN",
        kind="account",
        contributions={"days_to_renewal": 1.0},
        values={"days_to_renewal": 12.0},
        definitions=ACCOUNT,
        probability=0.3,
    )
    (only,) = narrate(facts=facts).recommendations
    assert only.timeframe == "Before the renewal in 12 days"


def test_merge_keeps_the_first_of_each_action() -> None:
    phrase = Phrase(family=Family.EXECUTIVE, title="Exec", text="No executive engagement")
    a = recommend(
        drivers=[(Driver(name="x", contribution=1.0, impact="high", risk=True), phrase)],
        audience="account",
        urgency="normal",
    )
    b = recommend(
        drivers=[(Driver(name="y", contribution=1.0, impact="low", risk=True), phrase)],
        audience="account",
        urgency="normal",
    )
    assert [(r.action, r.priority) for r in merge(a, b)] == [
        ("Re-engage executive sponsor", "high")
    ]
