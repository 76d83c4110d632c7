"""The grounding checker: every number printed in a narrative must be an input value or a value
derived from the inputs by one of the package's documented rules, shown at the printed
precision."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

from propensity.narratives import formatting as fmt
from propensity.narratives.facts import FeatureLike, FeatureStats, PredictionFacts

# A number as printed: optional $, digits with optional thousands separators and decimals.
# Digits glued to letters (Q3, 12w) are part of a word, not a claim.
NUMBER = re.compile(r"(?<![\w.])\$?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?![\w])")
TEXT_NUMBER = re.compile(r"\d+(?:\.\d+)?")


class Grounds:
    """The set of numbers a narrative may print."""

    def __init__(self) -> None:
        self.values: set[float] = set()

    def add(self, *values: float | None) -> None:
        for value in values:
            if value is not None and math.isfinite(value):
                self.values.add(abs(float(value)))

    def add_text(self, *texts: object) -> None:
        for text in texts:
            if isinstance(text, str):
                for token in TEXT_NUMBER.findall(text):
                    self.add(float(token))

    def grounded(self, printed: float, decimals: int) -> bool:
        tolerance = 0.5 * 10.0**-decimals + 1e-9
        return any(abs(v - printed) <= tolerance for v in self.values)

    def ungrounded(self, text: str) -> list[str]:
        bad = []
        for match in NUMBER.finditer(text):
            whole, fraction = match.group(1).replace(",", ""), match.group(2) or ""
            printed = float(f"{whole}.{fraction}" if fraction else whole)
            if not self.grounded(printed, len(fraction)):
                bad.append(match.group(0))
        return bad


def value_grounds(grounds: Grounds, value: float) -> None:
    """A value and what the rules derive from it alone: as a percentage, in minutes/hours/days
    (response times) and as the percentage change a log ratio stands for."""
    grounds.add(value, value * 100, value / 60, value / 3600, value / 86400)
    if abs(value) < 50:
        grounds.add((math.exp(value) - 1) * 100)


def stats_grounds(grounds: Grounds, stats: FeatureStats) -> None:
    for q in (stats.p10, stats.p25, stats.p50, stats.p75, stats.p90):
        if q is not None:
            value_grounds(grounds, q)


def prediction_grounds(facts: PredictionFacts) -> Grounds:
    """Inputs plus the documented derivations for one entity."""
    grounds = Grounds()
    numbers: dict[str, float] = {}
    for name, raw in facts.values.items():
        grounds.add_text(name, raw)
        value = fmt.as_float(raw)
        if value is not None:
            numbers[name] = value
            value_grounds(grounds, value)
    definitions: Mapping[str, FeatureLike] = facts.definitions
    for name in {*facts.contributions, *definitions}:
        grounds.add_text(name)
        if name in definitions:
            grounds.add_text(definitions[name].description)
    for stats in facts.feature_stats.values():
        stats_grounds(grounds, stats)
    for item in (facts.probability, facts.threshold):
        if item is not None:
            grounds.add(item * 100)
    grounds.add(facts.predicted_value, facts.horizon_days, facts.current_score)
    if facts.interval is not None:
        grounds.add(*facts.interval)
    extra = facts.facts
    grounds.add(extra.unresolved_tickets, extra.days_since_executive_meeting, extra.days_to_renewal)
    grounds.add_text(extra.name, extra.title, extra.company)
    for point in extra.health_history:
        grounds.add(point.score)
    # A lead's velocity window: max(1, age) days when younger than 30 days.
    if "days_since_created" in numbers:
        grounds.add(max(1.0, numbers["days_since_created"]))
    # Earlier health score = current - change.
    current = numbers.get("health_score_current", numbers.get("health_score"))
    if current is None and extra.health_history:
        current = max(extra.health_history, key=lambda p: p.on).score
    if current is not None:
        for name, value in numbers.items():
            if name.startswith("health_change_"):
                grounds.add(current - value)
    # 30-day trends from window counts: earlier monthly average and the relative change.
    for name, recent in numbers.items():
        if name.endswith("_30d"):
            total = numbers.get(name[: -len("30d")] + "90d")
            if total is not None:
                earlier = (total - recent) / 2
                grounds.add(earlier)
                if earlier:
                    grounds.add((recent - earlier) / earlier * 100)
    return grounds


def check(grounds: Grounds, texts: Iterable[str]) -> list[tuple[str, list[str]]]:
    """(text, ungrounded numbers) for every text with a number not in the grounds."""
    out = []
    for text in texts:
        bad = grounds.ungrounded(text)
        if bad:
            out.append((text, bad))
    return out
