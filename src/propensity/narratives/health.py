"""Health insights, anomalies and strength/risk areas from an account's own score history.

Inputs are plain histories (date -> score per dimension), so everything here is testable without
a database. The rules and their constants are documented in the package docstring.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from propensity.narratives import formatting as fmt
from propensity.narratives import playbook
from propensity.narratives.facts import Driver, Family, Impact
from propensity.narratives.playbook import Recommendation
from propensity.narratives.scene import Phrase
from propensity.narratives.words_health import DIMENSION_FAMILY, dimension_label

History = Mapping[date, float]

ANOMALY_K = 3.5  # robust z-score cut-off (Iglewicz and Hoaglin's modified z-score)
MAD_SCALE = 1.4826  # MAD * 1.4826 estimates the standard deviation of normal noise
MIN_SCALE_POINTS = 1.0  # a perfectly flat history still has 1 point of rounding noise
MIN_HISTORY = 5  # earlier snapshots needed before the latest one can be called unusual
RISK_LEVEL = 50.0
STRENGTH_LEVEL = 70.0
DECLINE_SLOPE = -5.0  # points per 30 days over the last SLOPE_DAYS
SLOPE_DAYS = 90
LOOKBACK_DAYS = 30
LOOKBACK_TOLERANCE_DAYS = 7
WARNING_DECLINE = 0.10
CRITICAL_DECLINE = 0.20
DIMENSION_MOVE_POINTS = 10.0
# A forecast this many points above/below the current score is improving/declining.
TRAJECTORY_POINTS = 3.0


@dataclass(frozen=True, kw_only=True)
class Anomaly:
    dimension: str
    description: str
    severity: Impact
    on: date
    latest: float
    baseline_median: float
    baseline_scale: float
    robust_z: float
    history_size: int

    def to_dict(self) -> dict[str, str]:
        return {
            "dimension": self.dimension,
            "description": self.description,
            "severity": self.severity,
        }


@dataclass(frozen=True, kw_only=True)
class Insight:
    type: str
    severity: str  # info / positive / warning / critical
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"type": self.type, "severity": self.severity, "message": self.message}


@dataclass(frozen=True, kw_only=True)
class HealthNarrative:
    insights: list[Insight]
    anomalies: list[Anomaly]
    strength_areas: list[str]
    risk_areas: list[str]
    recommendations: list[Recommendation] = field(default_factory=list)


def _points(history: History) -> list[tuple[date, float]]:
    """(date, score) sorted by date, without missing scores; datetimes become dates."""
    out: list[tuple[date, float]] = []
    for day, score in history.items():
        value = fmt.as_float(score)
        if value is None:
            continue
        out.append((day.date() if isinstance(day, datetime) else day, value))
    return sorted(out)


def robust_baseline(values: list[float]) -> tuple[float, float]:
    """(median, scale): scale = max(MAD * MAD_SCALE, MIN_SCALE_POINTS)."""
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    return median, max(mad * MAD_SCALE, MIN_SCALE_POINTS)


def detect_anomalies(
    *, dimensions: Mapping[str, History], k: float = ANOMALY_K, min_history: int = MIN_HISTORY
) -> list[Anomaly]:
    """Each dimension's latest score against its own earlier scores: flagged when
    |latest - median| / scale >= k. Drops first, by how far out they are."""
    found: list[Anomaly] = []
    for dimension, history in dimensions.items():
        points = _points(history)
        if len(points) < min_history + 1:
            continue
        on, latest = points[-1]
        earlier = [v for _, v in points[:-1]]
        median, scale = robust_baseline(earlier)
        z = (latest - median) / scale
        if abs(z) < k:
            continue
        drop = z < 0
        severity: Impact = ("high" if abs(z) >= 2 * k else "medium") if drop else "low"
        verb = "dropped" if drop else "rose"
        description = (
            f"Unusual {'drop' if drop else 'rise'} in {dimension_label(dimension).lower()}: "
            f"{verb} to {fmt.number(latest)} against a usual {fmt.number(median)} (median of "
            f"the previous {len(earlier)} snapshots)"
        )
        found.append(
            Anomaly(
                dimension=dimension,
                description=description,
                severity=severity,
                on=on,
                latest=latest,
                baseline_median=median,
                baseline_scale=scale,
                robust_z=z,
                history_size=len(earlier),
            )
        )
    found.sort(key=lambda a: (a.robust_z >= 0, -abs(a.robust_z), a.dimension))
    return found


def slope_per_30_days(history: History, *, days: int = SLOPE_DAYS) -> float | None:
    """Least-squares slope of the scores in the last `days` before the latest one, in points
    per 30 days; None with fewer than 3 points."""
    points = _points(history)
    if not points:
        return None
    end = points[-1][0]
    window = [(float((d - end).days), v) for d, v in points if (end - d).days <= days]
    if len(window) < 3:
        return None
    mean_x = sum(x for x, _ in window) / len(window)
    mean_y = sum(y for _, y in window) / len(window)
    var = sum((x - mean_x) ** 2 for x, _ in window)
    if var <= 0:
        return None
    return 30.0 * sum((x - mean_x) * (y - mean_y) for x, y in window) / var


@dataclass(frozen=True, kw_only=True)
class _Area:
    dimension: str
    level: float
    slope: float | None
    dropped: Anomaly | None

    @property
    def risk(self) -> bool:
        declining = self.slope is not None and self.slope <= DECLINE_SLOPE
        return self.level < RISK_LEVEL or declining or self.dropped is not None

    @property
    def strength(self) -> bool:
        return self.level >= STRENGTH_LEVEL and not self.risk


def _areas(dimensions: Mapping[str, History], anomalies: list[Anomaly]) -> list[_Area]:
    drops = {a.dimension: a for a in anomalies if a.robust_z < 0}
    out = []
    for dimension, history in dimensions.items():
        points = _points(history)
        if points:
            out.append(
                _Area(
                    dimension=dimension,
                    level=points[-1][1],
                    slope=slope_per_30_days(history),
                    dropped=drops.get(dimension),
                )
            )
    return out


def classify_areas(
    *, dimensions: Mapping[str, History], anomalies: list[Anomaly] | None = None
) -> tuple[list[str], list[str]]:
    """(strength areas, risk areas). Risk: latest < RISK_LEVEL, or slope <= DECLINE_SLOPE, or
    an anomalous drop; strength: latest >= STRENGTH_LEVEL and not a risk. Risks lowest first,
    strengths highest first."""
    found = anomalies if anomalies is not None else detect_anomalies(dimensions=dimensions)
    areas = _areas(dimensions, found)
    strengths = sorted((a for a in areas if a.strength), key=lambda a: (-a.level, a.dimension))
    risks = sorted((a for a in areas if a.risk), key=lambda a: (a.level, a.dimension))
    return [a.dimension for a in strengths], [a.dimension for a in risks]


def _lookback(points: list[tuple[date, float]]) -> tuple[int, float, float] | None:
    """(days back, earlier score, latest score): the point nearest LOOKBACK_DAYS before the
    latest within the tolerance, else the earliest point if the whole history is shorter (but at
    least LOOKBACK_TOLERANCE_DAYS long)."""
    if len(points) < 2:
        return None
    end, latest = points[-1]
    target = LOOKBACK_DAYS
    best = min(points[:-1], key=lambda p: (abs((end - p[0]).days - target), -p[0].toordinal()))
    gap = (end - best[0]).days
    if abs(gap - target) <= LOOKBACK_TOLERANCE_DAYS:
        return gap, best[1], latest
    first_day, first = points[0]
    span = (end - first_day).days
    if LOOKBACK_TOLERANCE_DAYS <= span < target:
        return span, first, latest
    return None


def health_insights(
    *,
    overall: History | None,
    dimensions: Mapping[str, History] | None = None,
    predicted_score: float | None = None,
    horizon_days: int = 30,
) -> list[Insight]:
    out: list[Insight] = []
    points = _points(overall or {})
    back = _lookback(points)
    if back is not None:
        span, before, now = back
        change = (now - before) / before if before > 0 else None
        if change is not None and fmt.percent(abs(change)) != "0%":
            verb = "declined" if change < 0 else "improved"
            severity = "positive"
            if change < 0:
                severity = (
                    "critical"
                    if -change >= CRITICAL_DECLINE
                    else "warning"
                    if -change >= WARNING_DECLINE
                    else "info"
                )
            message = (
                f"Health score has {verb} {fmt.percent(abs(change))} over the past "
                f"{fmt.days(span)} (from {fmt.number(before)} to {fmt.number(now)})"
            )
            out.append(Insight(type="trend", severity=severity, message=message))
        elif change is not None:
            message = (
                f"Health score has held steady at {fmt.number(now)} over the past {fmt.days(span)}"
            )
            out.append(Insight(type="trend", severity="info", message=message))
    if predicted_score is not None and points:
        now = points[-1][1]
        delta = predicted_score - now
        if abs(delta) >= TRAJECTORY_POINTS:
            direction = "down" if delta < 0 else "up"
            message = (
                f"Health score is forecast at {fmt.number(predicted_score)} in "
                f"{fmt.days(horizon_days)}, {direction} from {fmt.number(now)}"
            )
            severity = "warning" if delta < 0 else "positive"
        else:
            message = (
                f"Health score is forecast at {fmt.number(predicted_score)} in "
                f"{fmt.days(horizon_days)}, close to the current {fmt.number(now)}"
            )
            severity = "info"
        out.append(Insight(type="forecast", severity=severity, message=message))
    moves = []
    for dimension, history in (dimensions or {}).items():
        found = _lookback(_points(history))
        if found is not None and abs(found[2] - found[1]) >= DIMENSION_MOVE_POINTS:
            moves.append((dimension, *found))
    for dimension, span, before, now in sorted(moves, key=lambda m: -abs(m[3] - m[2])):
        fell = now < before
        message = (
            f"{dimension_label(dimension)} {'fell' if fell else 'rose'} "
            f"{fmt.count(abs(now - before), 'point')} over the past {fmt.days(span)} (from "
            f"{fmt.number(before)} to {fmt.number(now)})"
        )
        out.append(
            Insight(type="dimension", severity="warning" if fell else "positive", message=message)
        )
    return out


def _area_phrase(area: _Area) -> tuple[Driver, Phrase]:
    label = dimension_label(area.dimension)
    text = f"{label} score is {fmt.number(area.level)}"
    if area.slope is not None and fmt.number(abs(area.slope)) != "0":
        verb = "falling" if area.slope < 0 else "rising"
        text += f", {verb} {fmt.count(abs(area.slope), 'point')} per 30 days"
    if area.dropped is not None:
        text += f" (usually {fmt.number(area.dropped.baseline_median)})"
    declining = area.slope is not None and area.slope <= DECLINE_SLOPE
    impact: Impact = "low"
    if (area.dropped is not None and area.dropped.severity == "high") or (
        area.level < RISK_LEVEL and declining
    ):
        impact = "high"
    elif area.level < RISK_LEVEL or declining or area.dropped is not None:
        impact = "medium"
    phrase = Phrase(
        family=DIMENSION_FAMILY.get(area.dimension, Family.HEALTH), title=label, text=text
    )
    # Ordering key for the playbook: the lower the score, the earlier.
    driver = Driver(name=area.dimension, contribution=100.0 - area.level, impact=impact, risk=True)
    return driver, phrase


def health_narrative(
    *,
    dimensions: Mapping[str, History],
    overall: History | None = None,
    predicted_score: float | None = None,
    horizon_days: int = 30,
    k: float = ANOMALY_K,
) -> HealthNarrative:
    anomalies = detect_anomalies(dimensions=dimensions, k=k)
    areas = _areas(dimensions, anomalies)
    strengths, risks = classify_areas(dimensions=dimensions, anomalies=anomalies)
    risky = [a for a in areas if a.risk]
    recommendations = playbook.recommend(
        drivers=[_area_phrase(a) for a in risky], audience="account", urgency="normal"
    )
    return HealthNarrative(
        insights=health_insights(
            overall=overall,
            dimensions=dimensions,
            predicted_score=predicted_score,
            horizon_days=horizon_days,
        ),
        anomalies=anomalies,
        strength_areas=strengths,
        risk_areas=risks,
        recommendations=recommendations,
    )
