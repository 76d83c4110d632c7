"""Wording of account health features: the overall score, its changes, low point and slope,
each dimension's level and slope, and the snapshot's age (features/health.py)."""

from __future__ import annotations

import re

from propensity.narratives import formatting as fmt
from propensity.narratives.facts import Family
from propensity.narratives.scene import Phrase, Scene, title_case, trend_of_slope

# Which playbook family each health dimension belongs to.
DIMENSION_FAMILY: dict[str, Family] = {
    "engagement": Family.HEALTH,
    "product_adoption": Family.ADOPTION,
    "support_satisfaction": Family.SUPPORT,
    "executive_relationship": Family.EXECUTIVE,
}

_CHANGE = re.compile(r"^health_change_(?P<d>\d+)d$")
_DIMENSION = re.compile(r"^health_(?P<dim>[a-z_]+?)(_slope_(?P<d>\d+)d)?$")
_SLOPE = re.compile(r"^health_slope_(?P<d>\d+)d$")
_MIN = re.compile(r"^health_min_(?P<d>\d+)d$")


def dimension_label(dimension: str) -> str:
    """ "product_adoption" -> "Product adoption"."""
    words = dimension.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def current_score(scene: Scene) -> float | None:
    """The latest overall score: the model's feature, else the newest point of the history."""
    value = scene.num("health_score_current")
    if value is None:
        value = scene.num("health_score")
    if value is None and scene.facts.health_history:
        value = max(scene.facts.health_history, key=lambda p: p.on).score
    return value


def describe(name: str, scene: Scene) -> Phrase | None:
    if not name.startswith("health_"):
        return None
    if name in ("health_score_current", "health_score"):
        return _current(name, scene)
    if name == "health_snapshot_age_days":
        return _age(name, scene)
    for pattern, handler in ((_CHANGE, _change), (_SLOPE, _slope), (_MIN, _minimum)):
        match = pattern.match(name)
        if match:
            return handler(name, match["d"], scene)
    match = _DIMENSION.match(name)
    if match:
        return _dimension(name, match["dim"], match["d"], scene)
    return None


def _current(name: str, scene: Scene) -> Phrase:
    value = current_score(scene)
    trend = trend_of_slope(scene.num("health_change_30d"))
    if value is None:
        return Phrase(family=Family.HEALTH, title="Health Score", text="Health score: no data")
    return Phrase(
        family=Family.HEALTH,
        title=scene.adjective(name, value) + "Health Score",
        text=f"Health score is {fmt.number(value)}{scene.qualifier(name, value, fmt.number)}",
        trend=trend,
    )


def _change(name: str, d: str, scene: Scene) -> Phrase:
    change = scene.num(name)
    if change is None:
        return Phrase(
            family=Family.HEALTH,
            title="Health Score Change",
            text=f"Health score change over {d} days: no data",
        )
    now = current_score(scene)
    trend = trend_of_slope(change)
    if fmt.number(abs(change)) == "0":
        tail = f" at {fmt.number(now)}" if now is not None else ""
        return Phrase(
            family=Family.HEALTH,
            title="Stable Health Score",
            text=f"Health score unchanged{tail} over {d} days",
            trend=trend,
        )
    dropped = change < 0
    verb = "dropped" if dropped else "rose"
    if now is not None:
        # The earlier score is the current one minus the change (both are the model's inputs).
        before = fmt.number(now - change)
        text = f"Health score {verb} from {before} to {fmt.number(now)} over {d} days"
    else:
        text = f"Health score {verb} {fmt.count(abs(change), 'point')} over {d} days"
    return Phrase(
        family=Family.HEALTH,
        title="Health Score Decline" if dropped else "Health Score Improvement",
        text=text,
        trend=trend,
    )


def _slope_words(value: float) -> tuple[str, str]:
    """("falling 4 points per 30 days", "Declining") for a slope in points per 30 days."""
    shown = fmt.number(abs(value))
    if shown == "0":
        return "flat", "Flat"
    if value < 0:
        return f"falling {fmt.count(abs(value), 'point')} per 30 days", "Declining"
    return f"rising {fmt.count(abs(value), 'point')} per 30 days", "Improving"


def _slope(name: str, d: str, scene: Scene) -> Phrase:
    value = scene.num(name)
    if value is None:
        return Phrase(
            family=Family.HEALTH, title="Health Trend", text=f"Health trend over {d} days: no data"
        )
    words, adjective = _slope_words(value)
    return Phrase(
        family=Family.HEALTH,
        title=f"{adjective} Health Trend",
        text=f"Health score {words} over the last {d} days",
        trend=trend_of_slope(value),
    )


def _minimum(name: str, d: str, scene: Scene) -> Phrase:
    value = scene.num(name)
    if value is None:
        return Phrase(
            family=Family.HEALTH,
            title="Health Score Low Point",
            text=f"Lowest health score in {d} days: no data",
        )
    now = current_score(scene)
    if now is not None and fmt.number(now) == fmt.number(value):
        text = f"Health score is at its {d}-day low of {fmt.number(value)}"
    else:
        text = f"Health score fell as low as {fmt.number(value)} in the last {d} days"
    return Phrase(family=Family.HEALTH, title="Health Score Low Point", text=text)


def _dimension(name: str, dim: str, d: str | None, scene: Scene) -> Phrase:
    family = DIMENSION_FAMILY.get(dim, Family.HEALTH)
    label = dimension_label(dim)
    value = scene.num(name)
    if d is not None:
        if value is None:
            return Phrase(
                family=family,
                title=title_case(f"{label} Trend"),
                text=f"{label} trend over {d} days: no data",
            )
        words, adjective = _slope_words(value)
        return Phrase(
            family=family,
            title=title_case(f"{adjective} {label}"),
            text=f"{label} score {words} over the last {d} days",
            trend=trend_of_slope(value),
        )
    trend = trend_of_slope(scene.num(f"{name}_slope_90d"))
    if value is None:
        return Phrase(
            family=family, title=title_case(f"{label} Score"), text=f"{label} score: no data"
        )
    return Phrase(
        family=family,
        title=scene.adjective(name, value) + title_case(f"{label} Score"),
        text=f"{label} score is {fmt.number(value)}{scene.qualifier(name, value, fmt.number)}",
        trend=trend,
    )


def _age(name: str, scene: Scene) -> Phrase:
    value = scene.num(name)
    if value is None:
        return Phrase(
            family=Family.DATA, title="No Health Snapshot", text="No health snapshot on record"
        )
    title = "Stale Health Data" if scene.level(name, value) == "high" else "Health Data Age"
    return Phrase(
        family=Family.DATA,
        title=title,
        text=f"Latest health snapshot is {fmt.days(value)} old"
        + scene.qualifier(name, value, fmt.days),
    )
