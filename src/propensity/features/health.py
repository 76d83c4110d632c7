"""Account health features from the snapshot history strictly before t, and the HEALTH_TREND
target.

A snapshot is dated (a calendar day) and stamped at that date's midnight UTC; it is usable at t
when that stamp is before t. The simulator dates each snapshot at the end of the week it
describes, so a snapshot dated on the snapshot day itself is never used for that day.
"""

from __future__ import annotations

import numpy as np

from propensity.features.attributes import Rows
from propensity.features.definitions import FeatureGroup, FeatureSet, Source, numeric
from propensity.features.loading import HEALTH_DIMENSIONS, Health
from propensity.features.windows import (
    US_PER_DAY,
    FloatArray,
    IntArray,
    Stream,
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
    """Health snapshots sorted by (entity, time), with the values aligned to the stream."""

    def __init__(self, health: Health) -> None:
        self.stream = Stream(code=health.code, time=health.time)
        order = np.lexsort((health.time, health.code))
        self.scores = {name: values[order] for name, values in health.scores.items()}
        # Days since the entity's first snapshot: small numbers, and the same whichever other
        # entities were loaded.
        first = self.stream.time[self.stream.start(self.stream.code)] if len(health) else 0
        x = (self.stream.time - first) / US_PER_DAY
        # Running sums per entity for least-squares slopes over any window, per score.
        self._sums = {name: _running(self.stream.code, x, y) for name, y in self.scores.items()}

    def __len__(self) -> int:
        return len(self.stream)

    def value_before(self, name: str, code: IntArray, t: IntArray) -> FloatArray:
        idx, found = self.stream.last_before(code, t)
        if not len(self):
            return np.full(len(code), np.nan)
        return np.where(found, self.scores[name][idx], np.nan)

    def min_between(self, name: str, code: IntArray, lo: IntArray, hi: IntArray) -> FloatArray:
        a, b = self.stream.position(code, lo), self.stream.position(code, hi)
        values = np.append(self.scores[name], np.nan)
        # reduceat over (start, end) pairs: even slots hold the minimum of [start, end).
        bounds = np.stack([a, np.maximum(b, a)], axis=1).ravel()
        mins = np.fmin.reduceat(values, np.minimum(bounds, len(values) - 1))[::2]
        return np.where(b > a, mins, np.nan)

    def slope_between(self, name: str, code: IntArray, lo: IntArray, hi: IntArray) -> FloatArray:
        """Least-squares slope of the score per 30 days over snapshots in [lo, hi); NaN with
        fewer than 3 snapshots."""
        start = self.stream.start(code)
        a, b = self.stream.position(code, lo), self.stream.position(code, hi)
        n, sx, sy, sxx, sxy = (window_sum(s, start, a, b) for s in self._sums[name])
        with np.errstate(divide="ignore", invalid="ignore"):
            var = sxx - sx * sx / n
            slope = (sxy - sx * sy / n) / var
        return np.where((n >= 3) & (var > 1e-9), slope * 30.0, np.nan)

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


def _running(code: IntArray, x: FloatArray, y: FloatArray) -> tuple[FloatArray, ...]:
    ok = ~np.isnan(y)
    xs, ys = np.where(ok, x, 0.0), np.where(ok, y, 0.0)
    return tuple(entity_cumsum(code, v) for v in (ok.astype(float), xs, ys, xs * xs, xs * ys))


def add_health_features(out: FeatureSet, history: HealthHistory, rows: Rows) -> None:
    code, t = rows.code, rows.t
    current = history.value_before("overall", code, t)
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
    for d in CHANGE_DAYS:
        out.add(
            numeric(
                f"health_change_{d}d",
                FeatureGroup.ENGAGEMENT,
                f"Change in the overall health score over {d} days",
                f"latest overall_score before t minus the latest before t - {d}d",
                _H,
            ),
            current - history.value_before("overall", code, t - days(d)),
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
    out.add(
        numeric(
            f"health_slope_{SLOPE_DAYS}d",
            FeatureGroup.ENGAGEMENT,
            f"Trend of the overall health score over {SLOPE_DAYS} days (points per 30 days)",
            f"least-squares slope of overall_score over snapshots in [t - {SLOPE_DAYS}d, t), "
            "per 30 days; needs 3 snapshots",
            _H,
        ),
        history.slope_between("overall", code, t - days(SLOPE_DAYS), t),
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
            history.value_before(dim, code, t),
        )
        out.add(
            numeric(
                f"health_{dim}_slope_{SLOPE_DAYS}d",
                FeatureGroup.ENGAGEMENT,
                f"Trend of {label} over {SLOPE_DAYS} days (points per 30 days)",
                f"least-squares slope of {dim} over snapshots in [t - {SLOPE_DAYS}d, t)",
                _H,
            ),
            history.slope_between(dim, code, t - days(SLOPE_DAYS), t),
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
