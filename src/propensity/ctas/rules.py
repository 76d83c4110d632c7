"""Which call to action a prediction asks for, if any. Pure: facts in, a decision out.

Inputs: the prediction (type, probability, the model's decision threshold, its outputs,
predicted value and explanation) and the account (renewal date, creation time), with `now`.
Every threshold below is a field of `CtaRules`; the defaults are in brackets.

Signals
    CHURN: "at risk" when probability >= the model's threshold (0.5 when the model has
    none). The level is outputs["level"] (low/medium/high/critical) or, when absent, the
    narratives' rule: critical >= max(0.8, threshold), high >= threshold, medium >=
    threshold / 2, else low; "elevated" means medium or worse. Urgency is
    outputs["interventionUrgency"] or, when absent, from the level: critical immediate,
    high this_week, medium this_month, low monitor.
    HEALTH_TREND: drop = outputs["currentScore"] - predicted score (points over the
    forecast horizon). "At risk" when drop >= health_drop_points [5]; "elevated" when at
    risk or the trajectory (outputs["trajectory"] or outputs["level"]) is "declining".
    Urgency: drop >= health_fast_drop_points [10] this_week (declining fast), at risk
    this_month, otherwise monitor.

Rules, first match wins
    1. RENEWAL: the renewal date is today or within renewal_window_days [60] and the signal
       is elevated. It wins over RISK because the renewal is the moment to act.
    2. RISK: at risk.
    3. ONBOARDING: the account is younger than onboarding_days [90] and the signal is
       elevated. Without that early-risk condition every new account would get a task
       whatever the prediction said, and CTAs here are generated from predictions.
    Otherwise no CTA, with the reason ("Churn risk below the action threshold", "Health
    trend not declining enough to act", or what the prediction lacks).

Priority from urgency: immediate and this_week HIGH, this_month MEDIUM, monitor LOW.
Due date: midnight UTC of today + 2 (immediate), 5 (this_week), 14 (this_month) or 30
(monitor) days, but never after the renewal date when the renewal is after today.

Reasons are stable per rule (no day counts or percentages): an open CTA with the same
account, type and reason is a duplicate, so a reason that changed daily would never match.
The day counts and probabilities go in the title.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from propensity.models import CtaPriority, CtaType

URGENCY_DAYS = {"immediate": 2, "this_week": 5, "this_month": 14, "monitor": 30}
URGENCY_PRIORITY = {
    "immediate": CtaPriority.HIGH,
    "this_week": CtaPriority.HIGH,
    "this_month": CtaPriority.MEDIUM,
    "monitor": CtaPriority.LOW,
}
_LEVEL_URGENCY = {
    "critical": "immediate",
    "high": "this_week",
    "medium": "this_month",
    "low": "monitor",
}
ELEVATED_CHURN_LEVELS = frozenset({"medium", "high", "critical"})
MAX_DRIVERS = 3

NO_CHURN_RISK = "Churn risk below the action threshold"
NO_HEALTH_RISK = "Health trend not declining enough to act"
NO_PROBABILITY = "Prediction has no churn probability"
NO_FORECAST = "Prediction has no forecast health score"
UNSUPPORTED = "CTAs are generated from CHURN or HEALTH_TREND predictions only"


@dataclass(frozen=True)
class CtaRules:
    renewal_window_days: int = 60
    onboarding_days: int = 90
    health_drop_points: float = 5.0
    health_fast_drop_points: float = 10.0
    # The narratives' fallback when a model carries no decision threshold.
    default_threshold: float = 0.5


DEFAULT_RULES = CtaRules()


@dataclass(frozen=True, kw_only=True)
class CtaDraft:
    type: CtaType
    priority: CtaPriority
    title: str
    description: str
    due_date: datetime
    reason: str


@dataclass(frozen=True, kw_only=True)
class CtaDecision:
    """`draft` is None when no CTA applies; `reason` then says why."""

    draft: CtaDraft | None
    reason: str


@dataclass(frozen=True, kw_only=True)
class _Signal:
    at_risk: bool
    elevated: bool
    urgency: str
    risk_title: str  # the RISK title
    renewal_detail: str  # in the RENEWAL title's brackets
    facts: str  # the analysis when the prediction carries no explanation text
    risk_reason: str
    renewal_reason: str
    onboarding_reason: str
    no_cta_reason: str


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def churn_level(probability: float, threshold: float) -> str:
    if probability >= max(0.8, threshold):
        return "critical"
    if probability >= threshold:
        return "high"
    if probability >= threshold / 2:
        return "medium"
    return "low"


def _churn_signal(
    probability: float, threshold: float, outputs: Mapping[str, Any], rules: CtaRules
) -> _Signal:
    level = outputs.get("level")
    if level not in _LEVEL_URGENCY:
        level = churn_level(probability, threshold)
    urgency = outputs.get("interventionUrgency")
    if urgency not in URGENCY_DAYS:
        urgency = _LEVEL_URGENCY[level]
    percent = round(probability * 100)
    return _Signal(
        at_risk=probability >= threshold,
        elevated=level in ELEVATED_CHURN_LEVELS,
        urgency=urgency,
        risk_title=f"Address churn risk - {percent}% probability",
        renewal_detail=f"{percent}% churn probability",
        facts=(
            f"Churn probability {percent}% against the model's action threshold of "
            f"{round(threshold * 100)}% ({level} risk)."
        ),
        risk_reason="High churn risk detected",
        renewal_reason=(
            f"Renewal within {rules.renewal_window_days} days with elevated churn risk"
        ),
        onboarding_reason="New account showing early risk",
        no_cta_reason=NO_CHURN_RISK,
    )


def _health_signal(predicted: float, outputs: Mapping[str, Any], rules: CtaRules) -> _Signal:
    current = _number(outputs.get("currentScore"))
    drop = None if current is None else current - predicted
    at_risk = drop is not None and drop >= rules.health_drop_points
    declining = "declining" in (outputs.get("trajectory"), outputs.get("level"))
    if drop is not None and drop >= rules.health_fast_drop_points:
        urgency = "this_week"
    elif at_risk:
        urgency = "this_month"
    else:
        urgency = "monitor"
    if current is None:
        change = f"forecast {round(predicted)}"
        facts = f"Health score forecast at {round(predicted)}."
    else:
        change = f"from {round(current)} to {round(predicted)}"
        facts = f"Health score forecast to move from {round(current)} to {round(predicted)}."
    return _Signal(
        at_risk=at_risk,
        elevated=at_risk or declining,
        urgency=urgency,
        risk_title=f"Address declining health - score {change}",
        renewal_detail=f"health {change}",
        facts=facts,
        risk_reason="Declining health trend detected",
        renewal_reason=f"Renewal within {rules.renewal_window_days} days with declining health",
        onboarding_reason="New account showing declining health",
        no_cta_reason=NO_HEALTH_RISK,
    )


def _day_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def due_date_for(*, urgency: str, today: date, renewal_date: date | None) -> datetime:
    due = today + timedelta(days=URGENCY_DAYS[urgency])
    if renewal_date is not None and renewal_date > today:
        due = min(due, renewal_date)
    return _day_midnight(due)


def describe(*, explanation: str | None, facts: str, drivers: Sequence[Any]) -> str:
    text = (explanation or "").strip() or facts
    lines = [f"**ML Analysis**: {text}"]
    picked = [str(d).strip() for d in drivers if str(d).strip()][:MAX_DRIVERS]
    if picked:
        lines.append("")
        lines.append("Primary drivers:")
        lines.extend(f"- {driver}" for driver in picked)
    return "\n".join(lines)


def _renews_in(days: int) -> str:
    if days == 0:
        return "renews today"
    return f"renews in {days} day{'s' if days != 1 else ''}"


def choose_cta(
    *,
    prediction_type: str,
    probability: float | None,
    threshold: float | None,
    outputs: Mapping[str, Any],
    predicted_value: float | None,
    explanation: str | None,
    renewal_date: date | None,
    account_created_at: datetime | None,
    now: datetime,
    rules: CtaRules = DEFAULT_RULES,
) -> CtaDecision:
    """The CTA the prediction calls for (see the module docstring), or why there is none."""
    if prediction_type == "CHURN":
        if probability is None or math.isnan(probability):
            return CtaDecision(draft=None, reason=NO_PROBABILITY)
        cut = rules.default_threshold if threshold is None else threshold
        signal = _churn_signal(probability, cut, outputs, rules)
    elif prediction_type == "HEALTH_TREND":
        if predicted_value is None or math.isnan(predicted_value):
            return CtaDecision(draft=None, reason=NO_FORECAST)
        signal = _health_signal(predicted_value, outputs, rules)
    else:
        return CtaDecision(draft=None, reason=UNSUPPORTED)

    today = now.astimezone(UTC).date()
    days_to_renewal = None if renewal_date is None else (renewal_date - today).days
    renewal_near = days_to_renewal is not None and 0 <= days_to_renewal <= rules.renewal_window_days
    age_days = None
    if account_created_at is not None:
        age_days = (now - account_created_at).days
    is_new = age_days is not None and 0 <= age_days < rules.onboarding_days

    if renewal_near and signal.elevated:
        assert days_to_renewal is not None
        cta_type = CtaType.RENEWAL
        title = f"Renewal at risk - {_renews_in(days_to_renewal)} ({signal.renewal_detail})"
        reason = signal.renewal_reason
    elif signal.at_risk:
        cta_type, title, reason = CtaType.RISK, signal.risk_title, signal.risk_reason
    elif is_new and signal.elevated:
        cta_type = CtaType.ONBOARDING
        title = f"Onboarding check-in - account {age_days} days old"
        reason = signal.onboarding_reason
    else:
        return CtaDecision(draft=None, reason=signal.no_cta_reason)

    drivers = outputs.get("primaryDrivers")
    draft = CtaDraft(
        type=cta_type,
        priority=URGENCY_PRIORITY[signal.urgency],
        title=title,
        description=describe(
            explanation=explanation,
            facts=signal.facts,
            drivers=drivers if isinstance(drivers, list) else [],
        ),
        due_date=due_date_for(urgency=signal.urgency, today=today, renewal_date=renewal_date),
        reason=reason,
    )
    return CtaDecision(draft=draft, reason=reason)
