"""The grounded input: what the LLM may put into words, built from what the surfaces already
computed (the stored prediction, its exact contributions with the entity's values, the
template narrative's factors and the playbook's recommendations). Plain data, no database.

Personal data stays out: leads appear by id, title and company, never by name or email.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from propensity.modeling.specs import FeatureSpec
from propensity.narratives import Factor, PredictionFacts, narrate

# How many contributions the LLM sees: the template narrative reports at most 5 drivers.
TOP_CONTRIBUTIONS = 8
RECOMMENDATION_KEYS = ("action", "priority", "timeframe", "expectedImpact", "rationale")


@dataclass(frozen=True, kw_only=True)
class ContributionFact:
    feature: str
    label: str
    value: Any
    contribution: float
    effect: str  # "risk" pushes towards the bad outcome, "strength" away from it
    impact: str
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "label": self.label,
            "value": self.value,
            "contribution": round(self.contribution, 4),
            "effect": self.effect,
            "impact": self.impact,
            "description": self.description,
        }


@dataclass(frozen=True, kw_only=True)
class Facts:
    """One task's facts. `prediction` holds the computed figures and categories as served;
    `candidates` the recommendations the LLM may word (none of its own)."""

    task: str  # churn, health, lead, ranked
    subject: str  # account, subscriber, lead, lead_ranking
    prediction: dict[str, Any]
    contributions: list[ContributionFact] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    context: list[str] = field(default_factory=list)
    leads: list[dict[str, Any]] = field(default_factory=list)

    @property
    def features(self) -> set[str]:
        return {c.feature for c in self.contributions}

    @property
    def actions(self) -> list[str]:
        return [str(c["action"]) for c in self.candidates]

    @property
    def lead_ids(self) -> list[int]:
        return [int(item["leadId"]) for item in self.leads]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "task": self.task,
            "subject": self.subject,
            "prediction": self.prediction,
        }
        if self.contributions:
            out["contributions"] = [c.to_dict() for c in self.contributions]
        if self.candidates:
            out["candidateRecommendations"] = self.candidates
        if self.context:
            out["context"] = self.context
        if self.leads:
            out["leads"] = self.leads
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, default=str, sort_keys=False)


def _factor_fact(factor: Factor, *, effect: str) -> ContributionFact:
    value = factor.current_value
    if isinstance(value, float) and not math.isfinite(value):
        value = None
    return ContributionFact(
        feature=factor.feature,
        label=factor.factor,
        value=value,
        contribution=float(factor.contribution),
        effect=effect,
        impact=factor.impact,
        description=factor.description,
    )


def contribution_facts(
    *,
    prediction_type: str,
    contributions: Mapping[str, float],
    values: Mapping[str, Any],
    feature_specs: Sequence[Mapping[str, Any]] = (),
    feature_stats: Mapping[str, Any] | None = None,
    probability: float | None = None,
    predicted_value: float | None = None,
    threshold: float | None = None,
    horizon_days: int | None = None,
    kind: str | None = None,
    limit: int = TOP_CONTRIBUTIONS,
) -> list[ContributionFact]:
    """The stored top contributions as facts, strongest first, each worded by the template
    narrative (its title and its sentence with the entity's real value)."""
    numeric = {
        str(k): float(v)
        for k, v in contributions.items()
        if isinstance(v, int | float) and math.isfinite(float(v))
    }
    if not numeric:
        return []
    facts = PredictionFacts.build(
        prediction_type=prediction_type,
        contributions=numeric,
        values=values,
        definitions=[FeatureSpec.from_dict(s) for s in feature_specs],
        feature_stats=feature_stats,
        probability=probability,
        predicted_value=predicted_value,
        threshold=threshold,
        horizon_days=horizon_days,
        kind=kind,
    )
    narrative = narrate(facts=facts, top_n=limit)
    items = [_factor_fact(f, effect="risk") for f in narrative.risk_factors] + [
        _factor_fact(f, effect="strength") for f in narrative.strengths
    ]
    items.sort(key=lambda c: (-abs(c.contribution), c.feature))
    return items[:limit]


def candidate_recommendations(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The playbook's recommendations as served, in their order, one per action."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in items:
        action = item.get("action")
        if not isinstance(action, str) or not action or action in seen:
            continue
        seen.add(action)
        out.append({k: item.get(k) for k in RECOMMENDATION_KEYS if item.get(k) is not None})
    return out
