"""The view of one entity that feature wording reads from, and the phrase it produces."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from propensity.narratives import formatting as fmt
from propensity.narratives.facts import (
    Audience,
    EntityFacts,
    Family,
    FeatureLike,
    FeatureStats,
    Level,
    Trend,
)

# Relative change beyond which a paired recent-vs-earlier comparison is a trend, not noise.
TREND_CHANGE = 0.10
# Score points per 30 days beyond which a slope is a trend.
TREND_SLOPE_POINTS = 1.0

_TRUE_TEXT = frozenset({"true", "yes", "y", "t", "1"})
_FALSE_TEXT = frozenset({"false", "no", "n", "f", "0"})


@dataclass(frozen=True, kw_only=True)
class Phrase:
    """One feature of one entity in words. `text` states the entity's real value(s) and never
    says whether that is good or bad: the sign of the contribution does that elsewhere."""

    family: Family
    title: str
    text: str
    trend: Trend | None = None


@dataclass(frozen=True, kw_only=True)
class Scene:
    values: Mapping[str, object]
    definitions: Mapping[str, FeatureLike] = field(default_factory=dict)
    stats: Mapping[str, FeatureStats] = field(default_factory=dict)
    facts: EntityFacts = field(default_factory=EntityFacts)
    audience: Audience = "account"

    def num(self, name: str) -> float | None:
        return fmt.as_float(self.values.get(name))

    def raw(self, name: str) -> object:
        value = self.values.get(name)
        if isinstance(value, float) and value != value:
            return None
        return value

    def text(self, name: str) -> str | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, str):
            return value.strip() or None
        return str(value)

    def flag(self, name: str) -> bool | None:
        value = self.raw(name)
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            low = value.strip().lower()
            return True if low in _TRUE_TEXT else False if low in _FALSE_TEXT else None
        number = fmt.as_float(value)
        return None if number is None else number != 0

    def description(self, name: str) -> str:
        definition = self.definitions.get(name)
        return definition.description if definition is not None else ""

    def kind(self, name: str) -> str | None:
        definition = self.definitions.get(name)
        return str(definition.kind) if definition is not None else None

    def level(self, name: str, value: float) -> Level | None:
        stats = self.stats.get(name)
        return stats.level(value) if stats is not None else None

    def adjective(self, name: str, value: float) -> str:
        """ "Low " / "High " when the value is in the training data's bottom or top decile."""
        level = self.level(name, value)
        return {"low": "Low ", "high": "High "}.get(level or "", "")

    def qualifier(
        self, name: str, value: float, show: Callable[[float], str], *, always: bool = False
    ) -> str:
        """ " (low; median 29)" against the training distribution; only for the extreme deciles
        unless `always`."""
        stats = self.stats.get(name)
        level = self.level(name, value)
        if stats is None or stats.p50 is None or level is None:
            return ""
        median = show(stats.p50)
        if level in ("low", "high"):
            return f" ({level}; median {median})"
        if not always:
            return ""
        if level == "median":
            return " (the median)"
        side = "below" if level == "below_median" else "above"
        return f" ({side} the median of {median})"


# What `Scene.qualifier` appends, so one-line summaries can leave it out.
_QUALIFIER = re.compile(
    r" \((?:low|high); median [^)]*\)| \((?:below|above) the median of [^)]*\)| \(the median\)"
)


def without_qualifier(text: str) -> str:
    return _QUALIFIER.sub("", text)


def trend_of_change(recent: float | None, earlier: float | None) -> Trend | None:
    """Recent rate against the earlier rate: a relative change beyond TREND_CHANGE."""
    if recent is None or earlier is None:
        return None
    if earlier == 0:
        return "increasing" if recent > 0 else "stable"
    change = (recent - earlier) / abs(earlier)
    if change > TREND_CHANGE:
        return "increasing"
    return "decreasing" if change < -TREND_CHANGE else "stable"


def trend_of_slope(slope: float | None, *, threshold: float = TREND_SLOPE_POINTS) -> Trend | None:
    if slope is None:
        return None
    if slope > threshold:
        return "increasing"
    return "decreasing" if slope < -threshold else "stable"


_WINDOW = re.compile(r"_(\d+)d$")


def humanize(name: str) -> str:
    """ "monthly_charges" -> "Monthly charges"; "login_30d" -> "Login (30 days)"."""
    match = _WINDOW.search(name)
    base = name[: match.start()] if match else name
    words = " ".join(part for part in base.replace("-", "_").split("_") if part)
    words = (words[:1].upper() + words[1:]) if words else name
    return f"{words} ({match.group(1)} days)" if match else words


@functools.lru_cache(maxsize=4096)
def title_case(text: str) -> str:
    # Kept per text: titles come from a fixed wording and the feature names, so a few hundred
    # distinct texts make every title of a portfolio's narratives.
    small = {"a", "an", "and", "of", "the", "in", "on", "per", "to", "vs"}
    words = text.split()
    return " ".join(
        w if (i and w.lower() in small) or w.isupper() else w[:1].upper() + w[1:]
        for i, w in enumerate(words)
    )
