"""Every branch of the CTA rules: type, precedence, priority, due date, wording."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from propensity.ctas.rules import (
    NO_CHURN_RISK,
    NO_FORECAST,
    NO_HEALTH_RISK,
    NO_PROBABILITY,
    UNSUPPORTED,
    CtaDecision,
    CtaDraft,
    CtaRules,
    choose_cta,
    churn_level,
)
from propensity.models import CtaPriority, CtaType

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
TODAY = NOW.date()
OLD = NOW - timedelta(days=400)


def midnight(days: int) -> datetime:
    return datetime.combine(TODAY + timedelta(days=days), datetime.min.time(), tzinfo=UTC)


def churn(
    probability: float | None = 0.72,
    *,
    threshold: float | None = 0.45,
    level: str | None = "high",
    urgency: str | None = "this_week",
    renewal_in: int | None = None,
    age_days: int | None = None,
    explanation: str | None = "Account shows significant churn risk.",
    drivers: list[str] | None = None,
    rules: CtaRules | None = None,
) -> CtaDecision:
    outputs: dict[str, Any] = {"primaryDrivers": drivers or []}
    if level is not None:
        outputs["level"] = level
    if urgency is not None:
        outputs["interventionUrgency"] = urgency
    return choose_cta(
        prediction_type="CHURN",
        probability=probability,
        threshold=threshold,
        outputs=outputs,
        predicted_value=None,
        explanation=explanation,
        renewal_date=None if renewal_in is None else TODAY + timedelta(days=renewal_in),
        account_created_at=OLD if age_days is None else NOW - timedelta(days=age_days),
        now=NOW,
        **({"rules": rules} if rules else {}),
    )


def health(
    predicted: float | None,
    *,
    current: float | None = 70,
    trajectory: str | None = None,
    renewal_in: int | None = None,
    age_days: int | None = None,
) -> CtaDecision:
    outputs: dict[str, Any] = {"currentScore": current}
    if trajectory is not None:
        outputs["trajectory"] = trajectory
    return choose_cta(
        prediction_type="HEALTH_TREND",
        probability=None,
        threshold=None,
        outputs=outputs,
        predicted_value=predicted,
        explanation=None,
        renewal_date=None if renewal_in is None else TODAY + timedelta(days=renewal_in),
        account_created_at=OLD if age_days is None else NOW - timedelta(days=age_days),
        now=NOW,
    )


def drafted(decision: CtaDecision) -> CtaDraft:
    assert decision.draft is not None, decision.reason
    return decision.draft


def test_churn_above_threshold_is_a_risk_cta_in_the_documents_words() -> None:
    draft = drafted(churn(drivers=["Declining health", "No exec engagement", "3 tickets", "x"]))
    assert draft.type is CtaType.RISK
    assert draft.priority is CtaPriority.HIGH
    assert draft.title == "Address churn risk - 72% probability"
    assert draft.reason == "High churn risk detected"
    assert draft.due_date == midnight(5)
    assert draft.description == (
        "**ML Analysis**: Account shows significant churn risk.\n\nPrimary drivers:\n"
        "- Declining health\n- No exec engagement\n- 3 tickets"
    )


@pytest.mark.parametrize(
    ("urgency", "priority", "days"),
    [
        ("immediate", CtaPriority.HIGH, 2),
        ("this_week", CtaPriority.HIGH, 5),
        ("this_month", CtaPriority.MEDIUM, 14),
        ("monitor", CtaPriority.LOW, 30),
    ],
)
def test_priority_and_due_date_follow_the_urgency(
    urgency: str, priority: CtaPriority, days: int
) -> None:
    draft = drafted(churn(urgency=urgency))
    assert (draft.priority, draft.due_date) == (priority, midnight(days))


def test_below_threshold_without_renewal_or_youth_is_no_cta() -> None:
    decision = churn(0.30, level="medium", urgency="this_month")
    assert decision.draft is None
    assert decision.reason == NO_CHURN_RISK


def test_risk_with_renewal_near_becomes_a_renewal_cta_due_before_it() -> None:
    draft = drafted(churn(0.61, urgency="this_month", renewal_in=23))
    assert draft.type is CtaType.RENEWAL
    assert draft.title == "Renewal at risk - renews in 23 days (61% churn probability)"
    assert draft.reason == "Renewal within 60 days with elevated churn risk"
    assert draft.due_date == midnight(14)


def test_medium_risk_below_threshold_is_enough_for_a_renewal_cta() -> None:
    draft = drafted(churn(0.30, level="medium", urgency="this_month", renewal_in=40))
    assert (draft.type, draft.priority) == (CtaType.RENEWAL, CtaPriority.MEDIUM)


def test_low_risk_with_renewal_near_is_no_cta() -> None:
    decision = churn(0.10, level="low", urgency="monitor", renewal_in=10)
    assert (decision.draft, decision.reason) == (None, NO_CHURN_RISK)


def test_renewal_outside_the_window_or_past_leaves_a_risk_cta() -> None:
    assert drafted(churn(renewal_in=61)).type is CtaType.RISK
    past = drafted(churn(urgency="this_month", renewal_in=-3))
    assert (past.type, past.due_date) == (CtaType.RISK, midnight(14))


def test_due_date_never_falls_after_a_future_renewal() -> None:
    draft = drafted(churn(0.30, level="medium", urgency="monitor", renewal_in=3))
    assert draft.due_date == midnight(3)
    assert "renews in 3 days" in draft.title
    one = drafted(churn(renewal_in=1))
    assert (one.due_date, "renews in 1 day (" in one.title) == (midnight(1), True)


def test_renewal_today_is_not_a_cap_and_reads_renews_today() -> None:
    draft = drafted(churn(urgency="immediate", renewal_in=0))
    assert draft.title == "Renewal at risk - renews today (72% churn probability)"
    assert draft.due_date == midnight(2)


def test_new_account_with_early_risk_gets_an_onboarding_check_in() -> None:
    draft = drafted(churn(0.30, level="medium", urgency="this_month", age_days=40))
    assert draft.type is CtaType.ONBOARDING
    assert draft.title == "Onboarding check-in - account 40 days old"
    assert draft.reason == "New account showing early risk"


def test_new_account_without_risk_is_no_cta() -> None:
    decision = churn(0.10, level="low", urgency="monitor", age_days=40)
    assert (decision.draft, decision.reason) == (None, NO_CHURN_RISK)


def test_precedence_renewal_over_risk_over_onboarding() -> None:
    assert drafted(churn(age_days=40)).type is CtaType.RISK
    assert drafted(churn(age_days=40, renewal_in=20)).type is CtaType.RENEWAL
    assert drafted(churn(0.3, level="medium", age_days=40, renewal_in=20)).type is CtaType.RENEWAL


def test_account_exactly_onboarding_days_old_is_no_longer_new() -> None:
    decision = churn(0.30, level="medium", urgency="this_month", age_days=90)
    assert decision.draft is None


def test_missing_level_and_urgency_come_from_probability_and_threshold() -> None:
    assert churn_level(0.85, 0.45) == "critical"
    assert churn_level(0.50, 0.45) == "high"
    assert churn_level(0.25, 0.45) == "medium"
    assert churn_level(0.10, 0.45) == "low"
    critical = drafted(churn(0.85, level=None, urgency=None))
    assert (critical.priority, critical.due_date) == (CtaPriority.HIGH, midnight(2))
    medium = drafted(churn(0.25, level=None, urgency=None, renewal_in=30))
    assert (medium.type, medium.priority) == (CtaType.RENEWAL, CtaPriority.MEDIUM)


def test_no_threshold_means_half() -> None:
    assert drafted(churn(0.55, threshold=None)).type is CtaType.RISK
    assert churn(0.45, threshold=None, level="medium").draft is None


def test_churn_without_probability_is_no_cta() -> None:
    assert churn(None).reason == NO_PROBABILITY


def test_without_explanation_the_analysis_states_the_facts() -> None:
    draft = drafted(churn(explanation=None))
    assert draft.description == (
        "**ML Analysis**: Churn probability 72% against the model's action threshold of 45% "
        "(high risk)."
    )


def test_rules_thresholds_are_parameters() -> None:
    wide = CtaRules(renewal_window_days=90, onboarding_days=30)
    assert drafted(churn(renewal_in=80, rules=wide)).type is CtaType.RENEWAL
    young = churn(0.3, level="medium", urgency="this_month", age_days=40, rules=wide)
    assert young.draft is None


def test_health_falling_fast_is_a_high_priority_risk_cta() -> None:
    draft = drafted(health(58, current=70, trajectory="declining"))
    assert (draft.type, draft.priority) == (CtaType.RISK, CtaPriority.HIGH)
    assert draft.title == "Address declining health - score from 70 to 58"
    assert draft.reason == "Declining health trend detected"
    assert draft.due_date == midnight(5)
    assert draft.description == ("**ML Analysis**: Health score forecast to move from 70 to 58.")


def test_health_falling_by_the_drop_threshold_is_a_medium_risk_cta() -> None:
    draft = drafted(health(64, current=70, trajectory="declining"))
    assert (draft.type, draft.priority, draft.due_date) == (
        CtaType.RISK,
        CtaPriority.MEDIUM,
        midnight(14),
    )


def test_slightly_declining_health_needs_a_renewal_or_a_new_account() -> None:
    assert health(66, trajectory="declining").reason == NO_HEALTH_RISK
    renewal = drafted(health(66, trajectory="declining", renewal_in=45))
    assert renewal.type is CtaType.RENEWAL
    assert renewal.title == "Renewal at risk - renews in 45 days (health from 70 to 66)"
    assert renewal.reason == "Renewal within 60 days with declining health"
    assert (renewal.priority, renewal.due_date) == (CtaPriority.LOW, midnight(30))
    onboarding = drafted(health(66, current=None, trajectory="declining", age_days=20))
    assert onboarding.type is CtaType.ONBOARDING
    assert onboarding.reason == "New account showing declining health"


def test_stable_or_improving_health_is_no_cta() -> None:
    assert health(68, trajectory="stable", renewal_in=10).reason == NO_HEALTH_RISK
    assert health(80, trajectory="improving", age_days=10).draft is None


def test_health_without_forecast_is_no_cta() -> None:
    assert health(None).reason == NO_FORECAST


def test_other_prediction_types_get_no_cta() -> None:
    decision = choose_cta(
        prediction_type="CONVERSION",
        probability=0.9,
        threshold=0.5,
        outputs={},
        predicted_value=None,
        explanation=None,
        renewal_date=date(2026, 6, 10),
        account_created_at=None,
        now=NOW,
    )
    assert (decision.draft, decision.reason) == (None, UNSUPPORTED)
