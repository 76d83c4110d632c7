"""The documented rule-based lead scorer (the lead-ml document's `ruleBasedOnly: true`):
points from fit and engagement signals, no trained model. Pure: the lead's feature groups in,
a score out (serving/leads.py serves and records it as a CONVERSION prediction without a
model, served by "rules").

Inputs are the four groups of `GET /leads/:id/ml/features` (features.lead_feature_groups).
Points per rule (a rule whose input is unknown scores nothing and counts as unknown):

    demographic  company known +5; title known +5; phone known +5;
                 corporate email domain +10;
                 title seniority c_level / vp / director +15, manager +8
    behavioral   at least one meeting +15; at least one form submission +10;
                 at least one email click +5; 3 or more high-value actions +5
    temporal     last activity within 7 days +10, else within 30 days +5
    engagement   email open rate >= 30% +5; in an active sequence +5

The points sum to at most 100, and the probability-like score is points / 100. These weights
are a fixed prior, not learned from the tenant's outcomes, so the score is not calibrated:
`confidence` = 0.5 x the share of the rules' inputs that are known (at most 0.5, lower for
leads with little data), and the answer is marked `"method": "rule_based"`.

The document shows risk factors and recommendations with every prediction; here they are the
rules with a known input that earned less than their full points (largest shortfall first):
impact high for 15 points missed, medium for 10, low for 5, each with the action that would
earn them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from propensity.narratives.words_lead import factor_trend, factor_value
from propensity.predictions.lead_scores import DEFAULT_THRESHOLD

MAX_POINTS = 100
# A rule-based score is a prior, not a measured model: it never claims more than this.
MAX_CONFIDENCE = 0.5
SENIOR = frozenset({"c_level", "vp", "director"})

Groups = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Rule:
    group: str
    key: str
    label: str
    points: Callable[[Any], int]
    most: int  # the rule's full points
    missed: str  # the risk factor's name when the lead falls short of them
    action: str  # what would earn them


def _known(value: Any) -> int:
    return 5 if value else 0


def _seniority(value: Any) -> int:
    if value in SENIOR:
        return 15
    return 8 if value == "manager" else 0


def _at_least(threshold: float, points: int) -> Callable[[Any], int]:
    return lambda value: points if float(value) >= threshold else 0


def _recency(days: Any) -> int:
    days = float(days)
    if days <= 7:
        return 10
    return 5 if days <= 30 else 0


RULES: tuple[Rule, ...] = (
    Rule(
        "demographic", "hasCompany", "Company known", _known,
        5, "Company Unknown", "Find out which company the lead works for",
    ),
    Rule(
        "demographic", "hasTitle", "Title known", _known,
        5, "Title Unknown", "Find out the lead's role",
    ),
    Rule(
        "demographic", "hasPhone", "Phone known", _known,
        5, "No Phone Number", "Ask for a phone number to set up a call",
    ),
    Rule(
        "demographic", "emailDomainType", "Corporate email domain",
        lambda v: 10 if v == "corporate" else 0,
        10, "Non-corporate Email", "Confirm the lead's work email address",
    ),
    Rule(
        "demographic", "titleSeniority", "Senior title", _seniority,
        15, "Junior Title", "Reach a decision-maker at the lead's company",
    ),
    Rule(
        "behavioral", "meetingCount", "Had a meeting", _at_least(1, 15),
        15, "No Meeting Yet", "Schedule a demo call",
    ),
    Rule(
        "behavioral", "formSubmitCount", "Submitted a form", _at_least(1, 10),
        10, "No Form Submission", "Offer a demo request or pricing form",
    ),
    Rule(
        "behavioral", "emailClickCount", "Clicked an email", _at_least(1, 5),
        5, "No Email Clicks", "Send content matched to the lead's interests",
    ),
    Rule(
        "behavioral", "highValueActionCount", "High-value actions", _at_least(3, 5),
        5, "Few High-value Actions", "Invite the lead to a demo, pricing page or trial",
    ),
    Rule(
        "temporal", "daysSinceLastActivity", "Recent activity", _recency,
        10, "No Recent Activity", "Re-engage with a personalised follow-up",
    ),
    Rule(
        "engagement", "emailOpenRate", "Opens emails", _at_least(0.3, 5),
        5, "Low Email Open Rate", "Revisit subject lines and send times",
    ),
    Rule(
        "engagement", "isInActiveSequence", "In an active sequence", _known,
        5, "Not in a Sequence", "Enrol the lead in a nurture sequence",
    ),
)  # fmt: skip
GROUPS = ("demographic", "behavioral", "temporal", "engagement")


@dataclass(frozen=True)
class Shortfall:
    """A rule whose input is known and earned less than its full points: what holds the
    rule-based score back, and so what to do next."""

    rule: Rule
    value: Any
    points_missed: int

    @property
    def impact(self) -> str:
        if self.points_missed >= 15:
            return "high"
        return "medium" if self.points_missed >= 10 else "low"

    def risk_factor(self) -> dict[str, Any]:
        # The rules read one snapshot of the lead's features: no history, so stable
        # (words_lead.factor_trend).
        return {
            "factor": self.rule.missed,
            "impact": self.impact,
            "currentValue": factor_value(self.value),
            "trend": factor_trend(None),
            "description": f"{self.rule.label} rule: {self.points_missed} of "
            f"{self.rule.most} points not earned ({self.rule.key} = {self.value})",
        }

    def recommendation(self) -> dict[str, Any]:
        return {
            "priority": self.impact,
            "action": self.rule.action,
            "rationale": self.risk_factor()["description"],
            "expectedImpact": f"Up to +{self.points_missed} points on the rule-based score",
            "timeframe": TIMEFRAMES[self.impact],
        }


TIMEFRAMES = {"high": "Within 3 days", "medium": "Within 1 week", "low": "Within 2 weeks"}
# As many as the model-based answers show.
MAX_FACTORS = 5
MAX_RECOMMENDATIONS = 3


@dataclass(frozen=True)
class RuleScore:
    points: int
    probability: float
    confidence: float
    by_group: dict[str, int]
    fired: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    shortfalls: list[Shortfall] = field(default_factory=list)

    def risk_factors(self) -> list[dict[str, Any]]:
        return [s.risk_factor() for s in self.shortfalls[:MAX_FACTORS]]

    def recommendations(self) -> list[dict[str, Any]]:
        return [s.recommendation() for s in self.shortfalls[:MAX_RECOMMENDATIONS]]

    def outputs(self) -> dict[str, Any]:
        """As stored with the prediction (JSON); its level is cut at DEFAULT_THRESHOLD."""
        return {
            "method": "rule_based",
            "threshold": DEFAULT_THRESHOLD,
            "points": self.points,
            "pointsByGroup": self.by_group,
            "rulesFired": self.fired,
            "unknownInputs": self.unknown,
            "riskFactors": self.risk_factors(),
            "recommendations": self.recommendations(),
        }

    def explanation(self) -> str:
        fired = ", ".join(f"{f['rule'].lower()} (+{f['points']})" for f in self.fired)
        return (
            f"Rule-based score of {self.points} points out of 100 from fit and engagement "
            f"signals: {fired or 'no rule applies to this lead'}. Not a trained model's estimate."
        )


def _is_missing(value: Any) -> bool:
    return value is None or value == "unknown" or (isinstance(value, float) and value != value)


def score_lead(groups: Groups) -> RuleScore:
    by_group = dict.fromkeys(GROUPS, 0)
    fired: list[dict[str, Any]] = []
    unknown: list[str] = []
    shortfalls: list[Shortfall] = []
    for rule in RULES:
        value = groups.get(rule.group, {}).get(rule.key)
        # Booleans are always known; a missing title/company simply scores nothing.
        if _is_missing(value) and not rule.key.startswith(("has", "is")):
            unknown.append(rule.key)
            continue
        points = rule.points(value)
        if points:
            by_group[rule.group] += points
            fired.append({"rule": rule.label, "input": rule.key, "points": points})
        if points < rule.most:
            shortfalls.append(
                Shortfall(rule, bool(value) if value is None else value, rule.most - points)
            )
    # Largest shortfall first; the rules' order breaks ties.
    shortfalls.sort(key=lambda s: -s.points_missed)
    total = min(MAX_POINTS, sum(by_group.values()))
    known_share = 1 - len(unknown) / len(RULES)
    return RuleScore(
        points=total,
        probability=total / MAX_POINTS,
        confidence=round(MAX_CONFIDENCE * known_share, 4),
        by_group=by_group,
        fired=fired,
        unknown=unknown,
        shortfalls=shortfalls,
    )
