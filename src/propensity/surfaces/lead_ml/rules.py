"""The documented rule-based lead scorer (`ruleBasedOnly: true`): points from fit and
engagement signals, no trained model. Pure: the lead's feature groups in, a score out.

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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

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
    Rule("demographic", "hasCompany", "Company known", _known),
    Rule("demographic", "hasTitle", "Title known", _known),
    Rule("demographic", "hasPhone", "Phone known", _known),
    Rule(
        "demographic",
        "emailDomainType",
        "Corporate email domain",
        lambda v: 10 if v == "corporate" else 0,
    ),
    Rule("demographic", "titleSeniority", "Senior title", _seniority),
    Rule("behavioral", "meetingCount", "Had a meeting", _at_least(1, 15)),
    Rule("behavioral", "formSubmitCount", "Submitted a form", _at_least(1, 10)),
    Rule("behavioral", "emailClickCount", "Clicked an email", _at_least(1, 5)),
    Rule("behavioral", "highValueActionCount", "High-value actions", _at_least(3, 5)),
    Rule("temporal", "daysSinceLastActivity", "Recent activity", _recency),
    Rule("engagement", "emailOpenRate", "Opens emails", _at_least(0.3, 5)),
    Rule("engagement", "isInActiveSequence", "In an active sequence", _known),
)
GROUPS = ("demographic", "behavioral", "temporal", "engagement")


@dataclass(frozen=True)
class RuleScore:
    points: int
    probability: float
    confidence: float
    by_group: dict[str, int]
    fired: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def outputs(self) -> dict[str, Any]:
        """As stored with the prediction (JSON)."""
        return {
            "method": "rule_based",
            "points": self.points,
            "pointsByGroup": self.by_group,
            "rulesFired": self.fired,
            "unknownInputs": self.unknown,
        }


def _is_missing(value: Any) -> bool:
    return value is None or value == "unknown" or (isinstance(value, float) and value != value)


def score_lead(groups: Groups) -> RuleScore:
    by_group = dict.fromkeys(GROUPS, 0)
    fired: list[dict[str, Any]] = []
    unknown: list[str] = []
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
    total = min(MAX_POINTS, sum(by_group.values()))
    known_share = 1 - len(unknown) / len(RULES)
    return RuleScore(
        points=total,
        probability=total / MAX_POINTS,
        confidence=round(MAX_CONFIDENCE * known_share, 4),
        by_group=by_group,
        fired=fired,
        unknown=unknown,
    )
