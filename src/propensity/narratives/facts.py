"""What a narrative is written from: the prediction, one entity's contributions and values, the
feature definitions, optional training statistics and optional extra facts.

Everything here is plain data; nothing reads a database. Sign conventions and the driver
ranking (which features are risks, which are strengths, how big each one is) live here because
every other module depends on them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Literal, Protocol

from propensity.narratives.formatting import as_float
from propensity.vocabulary import PredictionType

Impact = Literal["high", "medium", "low"]
Trend = Literal["increasing", "decreasing", "stable"]
Level = Literal["low", "below_median", "median", "above_median", "high"]
Audience = Literal["account", "subscriber", "lead"]
JsonValue = float | int | str | bool | None

# Impact cut-offs: |contribution| relative to the entity's largest |contribution| (any sign).
HIGH_IMPACT = 0.5
MEDIUM_IMPACT = 0.2
# A contribution below this share of the entity's total |contribution| is noise, not a driver.
NEGLIGIBLE_SHARE = 0.01


class FeatureLike(Protocol):
    """Anything with a feature's name, group, kind and description (features.FeatureDefinition,
    modeling.FeatureSpec)."""

    @property
    def name(self) -> str: ...
    @property
    def group(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def description(self) -> str: ...


@dataclass(frozen=True, kw_only=True)
class FeatureInfo:
    """A minimal FeatureLike for callers without a definition object."""

    name: str
    group: str = "demographic"
    kind: str = "numeric"
    description: str = ""


class Family(StrEnum):
    """What a driver is about; the playbook is keyed by it."""

    HEALTH = "health"
    USAGE = "usage"
    ADOPTION = "adoption"
    SUPPORT = "support"
    SUPPORT_BACKLOG = "support_backlog"
    EXECUTIVE = "executive"
    BILLING = "billing"
    CONTENT = "content"
    PURCHASES = "purchases"
    RENEWAL = "renewal"
    TENURE = "tenure"
    EMAIL = "email"
    OUTREACH = "outreach"
    MEETINGS = "meetings"
    LEAD_ENGAGEMENT = "lead_engagement"
    SENIOR_TITLE = "senior_title"
    OTHER_TITLE = "other_title"
    STALE = "stale"
    CONTACT = "contact"
    SEQUENCE = "sequence"
    QUALIFICATION = "qualification"
    TIMING = "timing"
    CONTRACT = "contract"
    PRICING = "pricing"
    DATA = "data"
    GENERIC = "generic"


@dataclass(frozen=True, kw_only=True)
class FeatureStats:
    """A feature's training distribution: quantiles for numbers, shares for categories."""

    p10: float | None = None
    p25: float | None = None
    p50: float | None = None
    p75: float | None = None
    p90: float | None = None

    @classmethod
    def from_model_stats(cls, stats: Mapping[str, Any]) -> FeatureStats | None:
        """From the modeling engine's per-feature statistics (modeling/stats.py): quantiles are
        interpolated from the binned baseline (edges and the share of rows in each bin), which
        stays right when equal quantiles were merged into one edge."""
        bins = stats.get("bins") or {}
        edges = [float(e) for e in bins.get("edges") or []]
        shares = [float(p) for p in bins.get("proportions") or []]
        if len(edges) < 2 or len(shares) != len(edges) - 1:
            return None
        cumulative = [0.0]
        for share in shares:
            cumulative.append(cumulative[-1] + share)
        return cls(
            **{f"p{q}": _interpolate(q / 100, cumulative, edges) for q in (10, 25, 50, 75, 90)}
        )

    @classmethod
    def from_values(cls, values: Sequence[float]) -> FeatureStats | None:
        present = sorted(v for v in values if math.isfinite(v))
        if not present:
            return None
        return cls(**{f"p{q}": quantile(present, q / 100) for q in (10, 25, 50, 75, 90)})

    def level(self, value: float) -> Level | None:
        """low: at or under p10 and under the median; high: at or over p90 and over the median;
        otherwise where it sits against the median. None without a median."""
        if self.p50 is None:
            return None
        if self.p10 is not None and value <= self.p10 and value < self.p50:
            return "low"
        if self.p90 is not None and value >= self.p90 and value > self.p50:
            return "high"
        if value < self.p50:
            return "below_median"
        return "above_median" if value > self.p50 else "median"


def _interpolate(q: float, cumulative: list[float], edges: list[float]) -> float:
    for i in range(1, len(cumulative)):
        if cumulative[i] >= q:
            lo, hi = cumulative[i - 1], cumulative[i]
            if hi <= lo:
                return edges[i]
            return edges[i - 1] + (edges[i] - edges[i - 1]) * (q - lo) / (hi - lo)
    return edges[-1]


def quantile(ordered: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile of sorted values (numpy's default method)."""
    position = (len(ordered) - 1) * q
    lo = math.floor(position)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (position - lo)


@dataclass(frozen=True, kw_only=True)
class HealthPoint:
    on: date
    score: float


@dataclass(frozen=True, kw_only=True)
class EntityFacts:
    """Facts about the entity beyond the model's features; each is optional and used only
    where a sentence needs it."""

    # Overall health score history, any order.
    health_history: Sequence[HealthPoint] = ()
    unresolved_tickets: int | None = None
    days_since_executive_meeting: float | None = None
    days_to_renewal: float | None = None
    name: str | None = None
    title: str | None = None
    company: str | None = None


@dataclass(frozen=True, kw_only=True)
class PredictionFacts:
    """Everything one entity's narrative is written from.

    `contributions` are per original feature in the model's raw space (log-odds for binary,
    log-days for time to close, score points for health); positive pushes the model's output up.
    `values` are the entity's feature values (None/NaN = missing). `predicted_value` is the
    predicted health score or days to close; `interval` its p10-p90 range where there is one.
    """

    prediction_type: PredictionType
    contributions: Mapping[str, float]
    values: Mapping[str, object]
    definitions: Mapping[str, FeatureLike] = field(default_factory=dict)
    probability: float | None = None
    predicted_value: float | None = None
    interval: tuple[float, float] | None = None
    threshold: float | None = None
    horizon_days: int | None = None
    # Band names set by the caller (riskCategory, HOT/WARM/COLD); derived when None.
    level: str | None = None
    current_score: float | None = None
    kind: str | None = None
    feature_stats: Mapping[str, FeatureStats] = field(default_factory=dict)
    facts: EntityFacts = field(default_factory=EntityFacts)

    @classmethod
    def build(
        cls,
        *,
        prediction_type: str | PredictionType,
        contributions: Mapping[str, float],
        values: Mapping[str, object],
        definitions: Sequence[FeatureLike] | Mapping[str, FeatureLike] = (),
        feature_stats: Mapping[str, FeatureStats | Mapping[str, Any]] | None = None,
        **rest: Any,
    ) -> PredictionFacts:
        """Normalises the loose shapes callers have: a list of definitions, the engine's raw
        statistics dicts, a prediction type as text."""
        by_name = (
            dict(definitions)
            if isinstance(definitions, Mapping)
            else {d.name: d for d in definitions}
        )
        stats: dict[str, FeatureStats] = {}
        for name, item in (feature_stats or {}).items():
            parsed = item if isinstance(item, FeatureStats) else FeatureStats.from_model_stats(item)
            if parsed is not None:
                stats[name] = parsed
        return cls(
            prediction_type=PredictionType.parse(str(prediction_type)),
            contributions=contributions,
            values=values,
            definitions=by_name,
            feature_stats=stats,
            **rest,
        )

    @property
    def audience(self) -> Audience:
        if self.prediction_type in (PredictionType.CONVERSION, PredictionType.TIME_TO_CLOSE):
            return "lead"
        if self.kind == "subscriber":
            return "subscriber"
        if self.kind is None and any(
            n.startswith(("watch_", "payment_failed", "purchase")) for n in self.values
        ):
            return "subscriber"
        return "account"

    @property
    def bad_sign(self) -> int:
        """+1 when a positive contribution pushes towards the bad outcome (churn, a longer time
        to close), -1 when it pushes towards the good one (conversion, a higher health score)."""
        if self.prediction_type in (PredictionType.CHURN, PredictionType.TIME_TO_CLOSE):
            return 1
        return -1


@dataclass(frozen=True, kw_only=True)
class Driver:
    name: str
    contribution: float
    impact: Impact
    # True when it pushes towards the bad outcome.
    risk: bool


def impact_of(magnitude: float, largest: float) -> Impact:
    share = magnitude / largest if largest > 0 else 0.0
    if share >= HIGH_IMPACT:
        return "high"
    return "medium" if share >= MEDIUM_IMPACT else "low"


def rank_drivers(
    contributions: Mapping[str, float], *, bad_sign: int, limit: int | None = None
) -> tuple[list[Driver], list[Driver]]:
    """(risks, strengths), each ordered by |contribution| descending (ties by name, so the order
    never depends on dict order), each cut to `limit` drivers when given. Non-finite and
    negligible contributions are left out."""
    # Plain finite floats (what explanations hold) skip as_float's checks: same values.
    finite = [
        (name, c)
        for name, raw in contributions.items()
        if (c := raw if type(raw) is float and math.isfinite(raw) else as_float(raw)) is not None
    ]
    magnitudes = [abs(c) for _, c in finite]
    floor = NEGLIGIBLE_SHARE * sum(magnitudes)
    largest = max(magnitudes, default=0.0)
    # Only the contributions above the floor are ordered: most of a model's features are
    # negligible for any one entity, and a driver is built only for the ones kept.
    ranked = sorted(
        (-a, name, c)
        for (name, c), a in zip(finite, magnitudes, strict=True)
        if c != 0 and a >= floor
    )
    cap = len(ranked) if limit is None else limit
    risks: list[Driver] = []
    strengths: list[Driver] = []
    for negative, name, c in ranked:
        risk = c * bad_sign > 0
        into = risks if risk else strengths
        if len(into) < cap:
            impact = impact_of(-negative, largest)
            into.append(Driver(name=name, contribution=c, impact=impact, risk=risk))
        elif len(risks) >= cap and len(strengths) >= cap:
            break
    return risks, strengths


def json_value(value: object) -> JsonValue:
    """A feature value as JSON: numbers (integers as int), text, booleans; missing as None."""
    if value is None or isinstance(value, str | bool):
        return value
    number = as_float(value)
    if number is None:
        return None
    return int(number) if number.is_integer() else round(number, 4)
