"""Every feature has wording with the entity's real values; the documents' example phrases come
out of real inputs; unknown columns get generic but factual text."""

from __future__ import annotations

import math

import pytest

from propensity.narratives import EntityFacts, FeatureInfo, FeatureStats, PredictionFacts
from propensity.narratives.facts import Family
from propensity.narratives.narrate import decision_factors, scene_of
from propensity.narratives.scene import Scene
from propensity.narratives.wording import describe
from tests.narratives.inputs import TYPES, definitions_for


def _scene(values: dict[str, object], audience: str = "account", **kw: object) -> Scene:
    return Scene(values=values, audience=audience, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("ptype", "kind"), TYPES)
@pytest.mark.parametrize("value", [None, math.nan, 0.0, 1.0, 3.5, 250.0])
def test_every_declared_feature_has_wording(ptype: str, kind: str | None, value: float) -> None:
    audience = "lead" if ptype in ("CONVERSION", "TIME_TO_CLOSE") else kind or "account"
    for definition in definitions_for(ptype, kind):
        raw: object = value
        if definition.kind == "categorical" and value is not None:
            raw = "corporate"
        phrase = describe(definition.name, _scene({definition.name: raw}, audience))
        assert phrase.title and phrase.text, definition.name
        # Feature names never leak into text meant for people.
        assert definition.name not in phrase.text or "_" not in definition.name, phrase.text
        assert "nan" not in phrase.text.lower().split(), phrase.text


def test_document_examples_from_real_values() -> None:
    scene = _scene(
        {
            "health_score_current": 52.0,
            "health_change_60d": -26.0,
            "open_tickets": 3.0,
            "days_since_executive_meeting": 45.0,
            "payment_failed_90d": 2.0,
            "watch_hours_30d": 12.0,
            "watch_hours_90d": 52.0,
        }
    )
    assert (
        describe("health_change_60d", scene).text
        == "Health score dropped from 78 to 52 over 60 days"
    )
    assert describe("health_change_60d", scene).title == "Health Score Decline"
    assert describe("open_tickets", scene).text == "3 unresolved support tickets"
    assert describe("open_tickets", scene).title == "Unresolved Support Tickets"
    exec_phrase = describe("days_since_executive_meeting", scene)
    assert (exec_phrase.title, exec_phrase.text) == (
        "No Executive Engagement",
        "No executive engagement in the last 45 days",
    )
    assert describe("payment_failed_90d", scene).text == "2 payment failures in the last 90 days"
    assert describe("payment_failed_90d", scene).title == "Payment Failures"
    # 12 hours in the last 30 days against (52 - 12) / 2 = 20 a month before: -40%.
    watch = describe("watch_trend", scene)
    assert watch.title == "Declining Watch Time"
    assert watch.text.startswith("Watch time fell 40% in the last 30 days")
    assert watch.trend == "decreasing"


def test_trend_from_the_log_ratio_when_counts_are_missing() -> None:
    phrase = describe("login_trend", _scene({"login_trend": math.log(0.5)}))
    assert phrase.text.startswith("Logins fell about 50% in the last 30 days")
    assert phrase.trend == "decreasing"


def test_lead_wording_uses_extra_facts() -> None:
    scene = _scene(
        {"title_seniority": "vp", "has_company": 1.0, "budget": 500000.0},
        "lead",
        facts=EntityFacts(title="VP Engineering", company="ACME Corp"),
    )
    assert describe("title_seniority", scene).text == "Decision-maker title (VP Engineering)"
    assert describe("title_seniority", scene).family is Family.SENIOR_TITLE
    assert describe("has_company", scene).text == "Company on record (ACME Corp)"
    assert describe("budget", scene).text == "Stated budget of $500,000"


def test_missing_values_say_what_missing_means() -> None:
    lead = _scene({}, "lead")
    assert describe("days_since_last_activity", lead).text == "No recorded activity"
    assert describe("email_open_rate", lead).text == "No emails sent yet"
    assert describe("avg_response_time", lead).text == "No responses to emails yet"
    account = _scene({})
    assert describe("email_open_rate_90d", account).text == "No emails sent in the last 90 days"


def test_unknown_columns_get_generic_factual_text() -> None:
    definitions = {
        "contract": FeatureInfo(
            name="contract", kind="categorical", description="Imported attribute contract"
        ),
        "tenure": FeatureInfo(name="tenure", description="Imported attribute tenure"),
        "monthly_charges": FeatureInfo(name="monthly_charges", description=""),
        "weird_flag": FeatureInfo(name="weird_flag", kind="boolean"),
        # What modeling.infer_feature_specs writes for a column of an arbitrary file.
        "payment_method": FeatureInfo(
            name="payment_method",
            kind="categorical",
            description="Imported column 'payment_method' (categorical).",
        ),
    }
    stats = {
        "tenure": FeatureStats(p10=2, p50=29, p90=69),
        "monthly_charges": FeatureStats(p10=20, p50=70.35, p90=102),
    }
    values = {
        "contract": "Month-to-month",
        "tenure": 1.0,
        "monthly_charges": 108.5,
        "weird_flag": 1,
    }
    scene = _scene(values, definitions=definitions, stats=stats)
    assert describe("contract", scene).text == "Contract: Month-to-month"
    assert describe("tenure", scene).text == "Tenure: 1 (low; median 29)"
    assert (
        describe("monthly_charges", scene).text == "Monthly charges: $108.50 (high; median $70.35)"
    )
    assert describe("weird_flag", scene).text == "Weird flag: yes"
    assert describe("payment_method", scene).text == "Payment method: no value"
    assert describe("no_definition_at_all", scene).text == "No definition at all: no value"
    facts = PredictionFacts.build(
        prediction_type="CHURN",
        contributions={"contract": 0.9, "tenure": 0.5},
        values=values,
        definitions=definitions,
        feature_stats=stats,
        probability=0.6,
    )
    assert decision_factors(facts=facts) == [
        "Contract: Month-to-month (raises the churn risk)",
        "Tenure: 1 (low; median 29) (raises the churn risk)",
    ]


def test_values_of_any_type_never_crash() -> None:
    odd: list[object] = ["text", b"bytes", [1, 2], {"a": 1}, math.inf, -math.inf, True, 10**30]
    for ptype, kind in TYPES:
        definitions = definitions_for(ptype, kind)
        for value in odd:
            facts = PredictionFacts.build(
                prediction_type=ptype,
                kind=kind,
                contributions={d.name: 1.0 for d in definitions},
                values={d.name: value for d in definitions},
                definitions=definitions,
            )
            scene = scene_of(facts)
            for definition in definitions:
                assert describe(definition.name, scene).text


def test_one_line_summaries_drop_every_qualifier_form() -> None:
    from propensity.narratives import formatting as fmt
    from propensity.narratives.scene import without_qualifier

    scene = _scene({}, stats={"x": FeatureStats(p10=1, p50=5, p90=9)})
    for value in (0.0, 3.0, 5.0, 7.0, 12.0):
        suffix = scene.qualifier("x", value, fmt.number, always=True)
        assert suffix
        assert without_qualifier(f"X of {value}{suffix}") == f"X of {value}"
