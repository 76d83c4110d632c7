"""Account health features from the snapshot history strictly before t, and the HEALTH_TREND
target.

A snapshot is dated (a calendar day) and stamped at that date's midnight UTC; it is usable at t
when that stamp is before t. The simulator dates each snapshot at the end of the week it
describes, so a snapshot dated on the snapshot day itself is never used for that day.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from propensity.features.attributes import Rows
from propensity.features.definitions import FeatureGroup, FeatureSet, Source, numeric
from propensity.features.history import HEALTH_DIMENSIONS, Health
from propensity.features.windows import (
    US_PER_DAY,
    FloatArray,
    IntArray,
    Stream,
    ago,
    days,
    entity_cumsum,
    window_sum,
)

CHANGE_DAYS = (30, 60, 90)
SLOPE_DAYS = 90
# HEALTH_TREND: the target is the snapshot nearest to t + 30 days, if one lies within this many
# days of it (weekly snapshots always have one; sparser histories lose those rows).
TARGET_TOLERANCE_DAYS = 7

_H = Source.HEALTH


class HealthHistory:
    """Health snapshots sorted by (entity, time), with the values aligned to the stream.

    The queries answer every score at once (one search of the snapshots serves them all)."""

    def __init__(self, health: Health, *, presorted: bool = False) -> None:
        """`presorted`: the snapshots already come sorted by (entity, time), as a stored
        state's do (features/state_codec.py)."""
        self.stream = Stream(code=health.code, time=health.time, presorted=presorted)
        order = None if presorted else np.lexsort((health.time, health.code))
        self.scores = {
            name: values if order is None else values[order]
            for name, values in health.scores.items()
        }

    def __len__(self) -> int:
        return len(self.stream)

    @cached_property
    def _sums(self) -> FloatArray:
        """Running sums per entity of (n, x, y, x², xy) per score, shaped (5, scores, items),
        for least-squares slopes over any window; x is the days since the entity's first
        snapshot: small numbers, and the same whichever other entities were loaded."""
        stream = self.stream
        first = stream.time[stream.start(stream.code)] if len(stream) else 0
        x = (stream.time - first) / US_PER_DAY
        y = np.asarray(list(self.scores.values()), dtype=np.float64)
        y = y.reshape(len(self.scores), len(stream))
        ok = ~np.isnan(y)
        xs, ys = np.where(ok, x, 0.0), np.where(ok, y, 0.0)
        return entity_cumsum(stream.code, np.stack([ok.astype(float), xs, ys, xs * xs, xs * ys]))

    def values_before(self, code: IntArray, t: IntArray) -> dict[str, FloatArray]:
        """Every score of the latest snapshot before t (NaN where there is none)."""
        if not len(self):
            shape = np.broadcast(code, t).shape
            return {name: np.full(shape, np.nan) for name in self.scores}
        idx, found = self.stream.last_before(code, t)
        return {name: np.where(found, values[idx], np.nan) for name, values in self.scores.items()}

    def min_between(self, name: str, code: IntArray, lo: IntArray, hi: IntArray) -> FloatArray:
        a, b = self.stream.position(code, lo), self.stream.position(code, hi)
        values = np.append(self.scores[name], np.nan)
        # reduceat over (start, end) pairs: even slots hold the minimum of [start, end).
        bounds = np.stack([a, np.maximum(b, a)], axis=1).ravel()
        mins = np.fmin.reduceat(values, np.minimum(bounds, len(values) - 1))[::2]
        return np.where(b > a, mins, np.nan)

    def slopes_between(self, code: IntArray, lo: IntArray, hi: IntArray) -> dict[str, FloatArray]:
        """Least-squares slope of each score per 30 days over snapshots in [lo, hi); NaN with
        fewer than 3 snapshots."""
        start = self.stream.start(code)
        a, b = self.stream.position(code, lo), self.stream.position(code, hi)
        # One (scores, rows) array per sum; the arithmetic is element-wise, so each score's
        # slope is what it would be alone.
        n, sx, sy, sxx, sxy = window_sum(self._sums, start, a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            var = sxx - sx * sx / n
            slope = (sxy - sx * sy / n) / var
        slopes = np.where((n >= 3) & (var > 1e-9), slope * 30.0, np.nan)
        return dict(zip(self.scores, slopes, strict=True))

    def nearest(self, name: str, code: IntArray, target: IntArray, tolerance: int) -> FloatArray:
        """The score of the snapshot nearest to `target` within `tolerance` microseconds; ties
        go to the earlier snapshot."""
        if not len(self):
            return np.full(len(code), np.nan)
        after, has_after = self.stream.first_at_or_after(code, target)
        before, has_before = self.stream.last_before(code, target)
        t_after = np.where(has_after, self.stream.time[after] - target, np.iinfo(np.int64).max)
        t_before = np.where(has_before, target - self.stream.time[before], np.iinfo(np.int64).max)
        use_after = t_after < t_before
        gap = np.minimum(t_after, t_before)
        value = np.where(use_after, self.scores[name][after], self.scores[name][before])
        return np.where(gap <= tolerance, value, np.nan)


def add_health_features(out: FeatureSet, history: HealthHistory, rows: Rows) -> None:
    code, t = rows.code, rows.t
    # The latest snapshot before t and before t - 30, 60 and 90 days, in one search.
    latest = history.values_before(code, ago(t, 0, *CHANGE_DAYS))
    current = latest["overall"][0]
    out.add(
        numeric(
            "health_score_current",
            FeatureGroup.ENGAGEMENT,
            "Overall health score of the latest snapshot",
            "overall_score of the latest health snapshot dated before t",
            _H,
        ),
        current,
    )
    for d, earlier in zip(CHANGE_DAYS, latest["overall"][1:], strict=True):
        out.add(
            numeric(
                f"health_change_{d}d",
                FeatureGroup.ENGAGEMENT,
                f"Change in the overall health score over {d} days",
                f"latest overall_score before t minus the latest before t - {d}d",
                _H,
            ),
            current - earlier,
        )
    out.add(
        numeric(
            "health_min_90d",
            FeatureGroup.ENGAGEMENT,
            "Lowest overall health score in the last 90 days",
            "minimum overall_score of snapshots in [t - 90d, t)",
            _H,
        ),
        history.min_between("overall", code, t - days(90), t),
    )
    slopes = history.slopes_between(code, t - days(SLOPE_DAYS), t)
    out.add(
        numeric(
            f"health_slope_{SLOPE_DAYS}d",
            FeatureGroup.ENGAGEMENT,
            f"Trend of the overall health score over {SLOPE_DAYS} days (points per 30 days)",
            f"least-squares slope of overall_score over snapshots in [t - {SLOPE_DAYS}d, t), "
            "per 30 days; needs 3 snapshots",
            _H,
        ),
        slopes["overall"],
    )
    for dim in HEALTH_DIMENSIONS:
        label = dim.replace("_", " ")
        out.add(
            numeric(
                f"health_{dim}",
                FeatureGroup.ENGAGEMENT,
                f"Health dimension: {label} (latest snapshot)",
                f"{dim} of the latest health snapshot dated before t",
                _H,
            ),
            latest[dim][0],
        )
        out.add(
            numeric(
                f"health_{dim}_slope_{SLOPE_DAYS}d",
                FeatureGroup.ENGAGEMENT,
                f"Trend of {label} over {SLOPE_DAYS} days (points per 30 days)",
                f"least-squares slope of {dim} over snapshots in [t - {SLOPE_DAYS}d, t)",
                _H,
            ),
            slopes[dim],
        )
    last = history.stream.last_time_before(code, t)
    age = np.where(last != np.iinfo(np.int64).min, (t - last) / US_PER_DAY, np.nan)
    out.add(
        numeric(
            "health_snapshot_age_days",
            FeatureGroup.TEMPORAL,
            "Age of the latest health snapshot",
            "t minus the date of the latest health snapshot before t, in days",
            _H,
            clock=True,
        ),
        age,
    )
