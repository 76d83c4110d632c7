"""One entity's prediction in words: risk factors, strengths, primary drivers,
recommendations, the explanation paragraph and decision factors, for every prediction type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from propensity.narratives import formatting as fmt
from propensity.narratives import playbook
from propensity.narratives.facts import (
    Driver,
    Impact,
    JsonValue,
    PredictionFacts,
    Trend,
    rank_drivers,
)
from propensity.narratives.health import TRAJECTORY_POINTS
from propensity.narratives.playbook import Recommendation, Urgency
from propensity.narratives.scene import Phrase, Scene
from propensity.narratives.wording import current_value, describe
from propensity.narratives.words_health import current_score
from propensity.narratives.words_lead import LeadTrend, factor_value, lead_factor_trend
from propensity.vocabulary import PredictionType

# Binary levels when the caller does not pass its own: critical at or above max(0.8, threshold),
# high at or above the threshold, medium at or above half of it, else low (HOT/WARM/COLD for
# leads with the same cut-offs). The threshold defaults to 0.5.
CRITICAL_PROBABILITY = 0.8
DEFAULT_THRESHOLD = 0.5
# The renewal that makes churn intervention one step more urgent.
RENEWAL_URGENCY_DAYS = 30
URGENCIES = ("monitor", "this_month", "this_week", "immediate")
EXPLANATION_RISKS = 3
EXPLANATION_STRENGTHS = 2

_EFFECTS: dict[PredictionType, tuple[str, str]] = {
    # (effect of a risk driver, effect of a strength)
    PredictionType.CHURN: ("raises the churn risk", "lowers the churn risk"),
    PredictionType.CONVERSION: (
        "lowers the likelihood of converting",
        "raises the likelihood of converting",
    ),
    PredictionType.TIME_TO_CLOSE: (
        "lengthens the expected time to close",
        "shortens the expected time to close",
    ),
    PredictionType.HEALTH_TREND: (
        "pulls the forecast health score down",
        "holds the forecast health score up",
    ),
}
_URGENCY_BY_LEVEL: dict[str, Urgency] = {
    "critical": "elevated",
    "high": "elevated",
    "hot": "elevated",
    "declining": "elevated",
    "medium": "normal",
    "warm": "normal",
    "stable": "normal",
    "low": "low",
    "cold": "low",
    "improving": "low",
}


@dataclass(frozen=True, kw_only=True)
class Factor:
    feature: str
    factor: str
    impact: Impact
    description: str
    current_value: JsonValue
    trend: Trend | LeadTrend | None
    contribution: float

    def to_dict(self, *, with_value: bool = False) -> dict[str, Any]:
        """The customer-success shape ({factor, impact, description}); `with_value` adds the
        lead-ml fields currentValue and trend."""
        out: dict[str, Any] = {
            "factor": self.factor,
            "impact": self.impact,
            "description": self.description,
        }
        if with_value:
            out["currentValue"] = self.current_value
            out["trend"] = self.trend
        return out


@dataclass(frozen=True, kw_only=True)
class Narrative:
    prediction_type: str
    level: str | None
    risk_factors: list[Factor]
    strengths: list[Factor]
    primary_drivers: list[str]
    recommendations: list[Recommendation]
    explanation: str
    decision_factors: list[str]
    # CHURN only: immediate / this_week / this_month / monitor.
    intervention_urgency: str | None


def scene_of(facts: PredictionFacts) -> Scene:
    return Scene(
        values=facts.values,
        definitions=facts.definitions,
        stats=facts.feature_stats,
        facts=facts.facts,
        audience=facts.audience,
    )


def derive_level(facts: PredictionFacts) -> str | None:
    """The caller's level, else the documented default for the prediction type."""
    if facts.level:
        return facts.level
    ptype = facts.prediction_type
    if ptype is PredictionType.HEALTH_TREND:
        now = facts.current_score
        if now is None:
            now = current_score(scene_of(facts))
        return trajectory(now, facts.predicted_value)
    if facts.probability is None or ptype is PredictionType.TIME_TO_CLOSE:
        return None
    p = facts.probability
    t = facts.threshold if facts.threshold is not None else DEFAULT_THRESHOLD
    if ptype is PredictionType.CONVERSION:
        return "HOT" if p >= t else "WARM" if p >= t / 2 else "COLD"
    if p >= max(CRITICAL_PROBABILITY, t):
        return "critical"
    return "high" if p >= t else "medium" if p >= t / 2 else "low"


def trajectory(current: float | None, predicted: float | None) -> str | None:
    if current is None or predicted is None:
        return None
    change = predicted - current
    if change >= TRAJECTORY_POINTS:
        return "improving"
    return "declining" if change <= -TRAJECTORY_POINTS else "stable"


def intervention_urgency(level: str | None, days_to_renewal: float | None) -> str | None:
    """critical -> immediate, high -> this_week, medium -> this_month, low -> monitor; one step
    more urgent when a renewal is due within RENEWAL_URGENCY_DAYS and the level is not low."""
    order = {"low": 0, "medium": 1, "high": 2, "critical": 3}
    if level is None or level.lower() not in order:
        return None
    step = order[level.lower()]
    if step > 0 and days_to_renewal is not None and days_to_renewal <= RENEWAL_URGENCY_DAYS:
        step = min(step + 1, len(URGENCIES) - 1)
    return URGENCIES[step]


def _factor(driver: Driver, phrase: Phrase, scene: Scene) -> Factor:
    lead = scene.audience == "lead"
    value = current_value(driver.name, scene)
    return Factor(
        feature=driver.name,
        factor=phrase.title,
        impact=driver.impact,
        description=phrase.text,
        # Leads: the lead-ml document's types and trend words (words_lead.factor_trend).
        current_value=factor_value(value) if lead else value,
        trend=lead_factor_trend(phrase.family, phrase.trend, scene) if lead else phrase.trend,
        contribution=driver.contribution,
    )


def narrate(*, facts: PredictionFacts, top_n: int = 5, driver_lines: int = 3) -> Narrative:
    """Risk factors (top `top_n` drivers towards the bad outcome), strengths (top `top_n` away
    from it), primary drivers (the top `driver_lines` risk facts), recommendations from both,
    the explanation paragraph and the decision factors."""
    scene = scene_of(facts)
    risks, strengths = rank_drivers(
        facts.contributions, bad_sign=facts.bad_sign, limit=max(top_n, driver_lines)
    )
    risk_pairs = [(d, describe(d.name, scene)) for d in risks[:top_n]]
    strength_pairs = [(d, describe(d.name, scene)) for d in strengths[:top_n]]
    level = derive_level(facts)
    days_to_renewal = scene.num("days_to_renewal")
    if days_to_renewal is None:
        days_to_renewal = facts.facts.days_to_renewal
    recommendations = playbook.recommend(
        drivers=[*risk_pairs, *strength_pairs],
        audience=facts.audience,
        urgency=_URGENCY_BY_LEVEL.get((level or "").lower(), "normal"),
        days_to_renewal=days_to_renewal,
    )
    urgency = None
    if facts.prediction_type is PredictionType.CHURN:
        urgency = intervention_urgency(level, days_to_renewal)
    return Narrative(
        prediction_type=facts.prediction_type.value,
        level=level,
        risk_factors=[_factor(d, p, scene) for d, p in risk_pairs],
        strengths=[_factor(d, p, scene) for d, p in strength_pairs],
        primary_drivers=[p.text for _, p in risk_pairs[:driver_lines]],
        recommendations=recommendations,
        explanation=explanation(
            facts=facts, level=level, risks=risk_pairs, strengths=strength_pairs
        ),
        decision_factors=_decision_factors(
            facts,
            scene,
            driver_lines,
            ranked=(risks, strengths),
            phrases={d.name: p for d, p in [*risk_pairs, *strength_pairs]},
        ),
        intervention_urgency=urgency,
    )


def decision_factors(*, facts: PredictionFacts, top_n: int = 3) -> list[str]:
    """The top drivers by |contribution| in either direction, each with its effect:
    "3 unresolved support tickets (raises the churn risk)"."""
    return _decision_factors(facts, scene_of(facts), top_n)


def _decision_factors(
    facts: PredictionFacts,
    scene: Scene,
    top_n: int,
    *,
    ranked: tuple[list[Driver], list[Driver]] | None = None,
    phrases: Mapping[str, Phrase] | None = None,
) -> list[str]:
    """`ranked` and `phrases` are what narrate() already computed from the same facts (the
    ranking and the descriptions are deterministic), passed in so a batch does each once."""
    risks, strengths = ranked or rank_drivers(facts.contributions, bad_sign=facts.bad_sign)
    top = sorted([*risks, *strengths], key=lambda d: (-abs(d.contribution), d.name))[:top_n]
    effects = _EFFECTS[facts.prediction_type]
    known = phrases or {}
    return [
        f"{(known.get(d.name) or describe(d.name, scene)).text} "
        f"({effects[0] if d.risk else effects[1]})"
        for d in top
    ]


def _opening(facts: PredictionFacts, level: str | None) -> str:
    ptype = facts.prediction_type
    within = f" within {fmt.days(facts.horizon_days)}" if facts.horizon_days else ""
    threshold = (
        f" (alert threshold {fmt.percent(facts.threshold)})" if facts.threshold is not None else ""
    )
    if ptype is PredictionType.CHURN and facts.probability is not None:
        head = f"{level.capitalize()} churn risk: " if level else ""
        return f"{head}{fmt.percent(facts.probability)} probability of churning{within}{threshold}"
    if ptype is PredictionType.CONVERSION and facts.probability is not None:
        head = f"{level.capitalize()} lead: " if level else ""
        return (
            f"{head}{fmt.percent(facts.probability)} probability of converting{within}{threshold}"
        )
    if ptype is PredictionType.TIME_TO_CLOSE and facts.predicted_value is not None:
        text = f"Expected to convert in about {fmt.days(facts.predicted_value)}"
        if facts.interval is not None:
            low, high = facts.interval
            text += f", likely between {fmt.number(round(low))} and {fmt.days(high)}"
        return text
    if ptype is PredictionType.HEALTH_TREND and facts.predicted_value is not None:
        now = facts.current_score
        if now is None:
            now = current_score(scene_of(facts))
        ahead = f" in {fmt.days(facts.horizon_days)}" if facts.horizon_days else ""
        moving = f" (from {fmt.number(now)} now)" if now is not None else ""
        tail = f", {level}" if level else ""
        return f"Health score forecast at {fmt.number(facts.predicted_value)}{ahead}{moving}{tail}"
    return ""


_DIRECTION_WORDS: dict[PredictionType, tuple[str, str]] = {
    PredictionType.CHURN: ("Raising the risk", "Lowering it"),
    PredictionType.CONVERSION: ("Holding it back", "Raising it"),
    PredictionType.TIME_TO_CLOSE: ("Slowing it down", "Speeding it up"),
    PredictionType.HEALTH_TREND: ("Pulling it down", "Holding it up"),
}


def explanation(
    *,
    facts: PredictionFacts,
    level: str | None,
    risks: list[tuple[Driver, Phrase]],
    strengths: list[tuple[Driver, Phrase]],
) -> str:
    """One paragraph: the prediction (probability, level, horizon), then the top risk drivers
    and the top strengths with their real values. Leads read the strengths first."""
    against, towards = _DIRECTION_WORDS[facts.prediction_type]
    parts = [_opening(facts, level)]
    risk_text = _listed(risks[:EXPLANATION_RISKS])
    strength_text = _listed(strengths[:EXPLANATION_STRENGTHS])
    clauses = [(against, risk_text), (towards, strength_text)]
    if facts.prediction_type is PredictionType.CONVERSION:
        clauses.reverse()
    parts += [f"{label}: {text}" for label, text in clauses if text]
    return " ".join(fmt.sentence(p) for p in parts if p)


def _listed(pairs: list[tuple[Driver, Phrase]]) -> str:
    return "; ".join(fmt.lower_first(p.text) for _, p in pairs)
