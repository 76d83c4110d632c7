"""The lead numbers derived from the models' outputs: SCORE (0-100 and its breakdown),
PRIORITY (expected value, rank, tier), capped days to close and the HOT/WARM/COLD level.
Pure functions (DESIGN.md "Prediction types": SCORE and PRIORITY derive from CONVERSION);
serving/leads.py and serving/lead_ranking.py serve and record them.

Lead score (SCORE, ranked leads' `score`)
    score = round(100 x calibrated conversion probability), 0-100.

Score breakdown (`scoreBreakdown`, sums exactly to the score)
    The conversion model's exact explanation is summed per feature group (demographic,
    behavioral, temporal, engagement) in log-odds. Each group's share is its positive part
    over the sum of the positive parts (the groups that raise the lead's odds earn the
    points); when no group raises them, the shares are the groups' |contribution| over the
    sum of all |contributions| (what moved the prediction at all); when nothing moved it,
    equal shares. Points = score x share, rounded by the largest-remainder method (floors
    first, then one point each to the largest fractional parts, ties by the group order
    above), so the integers always add up to the score.

Days to close (TIME_TO_CLOSE)
    `predictedDays` is the AFT model's median and `confidenceInterval` its p10-p90, each
    rounded to whole days and capped at MAX_DAYS (365). A stale lead can get a median of
    thousands of days; past the cap the answer says "unlikely to close within a year"
    (`closesWithinYear: false`) instead of printing the number.

Priority (ranked leads, PRIORITY)
    priorityScore = 100 x p x w x d, 0-100, one decimal:
    p  calibrated conversion probability;
    w  value weight = min(1, V / V_ref): V is the lead's deal value, else its budget, else
       the median known value of the configuration's leads (of the tenant's when the
       configuration has none); V_ref is the 90th percentile of those known values, so the
       largest tenth of deals weigh fully. No known value anywhere: w = 1.
    d  time discount = 0.5 ^ (days / half-life), days = the capped median days to close
       (half-life 90 days by default, PROPENSITY_LEAD_PRIORITY_HALF_LIFE_DAYS); d = 1 when
       no time-to-close prediction exists.
    So 100 is a certain, top-decile deal closing now; the score is expected value on a
    fixed scale, comparable across leads of one configuration.

Tiers and rank
    priorityRank 1..n by priorityScore (descending; ties by probability, then lead id).
    Tiers by rank percentile within the ranked leads: top = the first 10%, high = up to
    30%, medium = up to 60%, low = the rest (cumulative cut-offs configurable:
    PROPENSITY_LEAD_TIER_TOP_PERCENT / _HIGH_PERCENT / _MEDIUM_PERCENT). A lead is in the
    top tier when rank <= ceil(n x 10%), and so on, so even a short list has a top lead.

Score level (HOT/WARM/COLD)
    From the conversion model's decision threshold t: HOT >= t, WARM >= t/2, else COLD (the
    narratives' rule), or fixed probabilities PROPENSITY_LEAD_HOT_PROBABILITY and
    PROPENSITY_LEAD_WARM_PROBABILITY when set. The rule-based scorer uses t = 0.5.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from propensity.models import Prediction

GROUPS = ("demographic", "behavioral", "temporal", "engagement")
MAX_DAYS = 365
TIERS = ("top", "high", "medium", "low")
DEFAULT_THRESHOLD = 0.5
REFERENCE_PERCENTILE = 90


def lead_score(probability: float) -> int:
    return round(100 * min(1.0, max(0.0, probability)))


def largest_remainder(total: int, shares: Sequence[float]) -> list[int]:
    """Integers proportional to `shares` that sum exactly to `total` (shares sum to 1)."""
    raw = [total * s for s in shares]
    floors = [math.floor(x) for x in raw]
    left = total - sum(floors)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def group_shares(groups: Mapping[str, float]) -> list[float]:
    values = [float(groups.get(g) or 0.0) for g in GROUPS]
    positive = [max(v, 0.0) for v in values]
    if sum(positive) > 0:
        return [v / sum(positive) for v in positive]
    magnitude = [abs(v) for v in values]
    if sum(magnitude) > 0:
        return [v / sum(magnitude) for v in magnitude]
    return [1 / len(GROUPS)] * len(GROUPS)


def score_breakdown(score: int, groups: Mapping[str, float]) -> dict[str, int]:
    return dict(zip(GROUPS, largest_remainder(score, group_shares(groups)), strict=True))


@dataclass(frozen=True)
class Days:
    """Median and p10-p90 in whole days, capped at MAX_DAYS."""

    median: int
    low: int
    high: int
    capped: bool

    @classmethod
    def of(cls, median: float, low: float, high: float) -> Days:
        def cap(x: float) -> int:
            return int(min(MAX_DAYS, max(0, round(x))))

        return cls(cap(median), cap(low), cap(high), capped=median > MAX_DAYS)


def days_of(prediction: Prediction) -> Days | None:
    """The capped days of a stored TIME_TO_CLOSE prediction (median and p10-p90); None when
    it carries no interval."""
    outputs = prediction.outputs or {}
    if prediction.predicted_value is None or "p10Days" not in outputs:
        return None
    return Days.of(
        float(prediction.predicted_value), float(outputs["p10Days"]), float(outputs["p90Days"])
    )


def threshold_of(prediction: Prediction) -> float | None:
    """The decision threshold stored with a CONVERSION prediction (its model's, or the
    rule-based scorer's), which the HOT/WARM/COLD level is cut at."""
    value = (prediction.outputs or {}).get("threshold")
    return float(value) if isinstance(value, int | float) else None


def value_reference(known_values: Sequence[float]) -> tuple[float | None, float | None]:
    """(median, 90th percentile) of the known positive deal values; None without any."""
    values = np.asarray([v for v in known_values if v is not None and v > 0], dtype=float)
    if len(values) == 0:
        return None, None
    return float(np.median(values)), float(np.percentile(values, REFERENCE_PERCENTILE))


def priority_score(
    *,
    probability: float,
    value: float | None,
    median_value: float | None,
    reference_value: float | None,
    days: float | None,
    half_life_days: float,
) -> float:
    if reference_value is None or reference_value <= 0:
        weight = 1.0
    else:
        v = value if value is not None and value > 0 else median_value
        weight = min(1.0, (v or 0.0) / reference_value)
    discount = 1.0 if days is None else 0.5 ** (max(0.0, days) / half_life_days)
    return round(100 * probability * weight * discount, 1)


def tier_for_rank(rank: int, count: int, cutoffs: Sequence[float]) -> str:
    """cutoffs: cumulative percents for top, high and medium (e.g. 10, 30, 60)."""
    for tier, percent in zip(TIERS, cutoffs, strict=False):
        if rank <= math.ceil(count * percent / 100):
            return tier
    return TIERS[-1]


def level(probability: float, *, hot: float, warm: float) -> str:
    return "HOT" if probability >= hot else "WARM" if probability >= warm else "COLD"


def level_cutoffs(
    threshold: float | None, *, hot: float | None, warm: float | None
) -> tuple[float, float]:
    t = DEFAULT_THRESHOLD if threshold is None else threshold
    return (t if hot is None else hot), (t / 2 if warm is None else warm)
