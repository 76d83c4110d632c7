"""Vectorised "what happened before t" queries over a stream of timestamped events.

Every feature of the point-in-time builder reduces to a few questions per (entity, t) row: how
many events in [t - w, t), their summed value, the time of the last one before t. A `Stream`
answers each question for all rows at once with `np.searchsorted` on one sorted key array, so
the cost grows with the number of events and rows, never with entity-by-entity Python loops.

Times are int64 microseconds since the epoch (UTC) throughout the package.

Exactness: the key of an event is (entity code, rank of its time among the stream's distinct
times), so ties and sub-second stamps compare exactly; "before t" always means strictly before.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND
# Sentinels for missing times: a missing start is "since forever", a missing end "never".
NO_START = np.iinfo(np.int64).min
NO_END = np.iinfo(np.int64).max


def days(us: int | float) -> int:
    """A whole number of days as microseconds."""
    return int(us * US_PER_DAY)


class Stream:
    """Events of one sort (one type, or a derived series) for many entities.

    `code` is the entity's position in the entity table (0..n-1); `value` is optional and
    enables sums. Input order does not matter.
    """

    def __init__(
        self,
        *,
        code: IntArray,
        time: IntArray,
        value: FloatArray | None = None,
    ) -> None:
        code = np.asarray(code, dtype=np.int64)
        time = np.asarray(time, dtype=np.int64)
        order = np.lexsort((time, code))
        self.code = code[order]
        self.time = time[order]
        # Rank of each time among the distinct times, by one sort (cheaper than np.unique
        # followed by a search).
        by_time = np.argsort(self.time, kind="stable")
        sorted_times = self.time[by_time]
        new = np.ones(len(sorted_times), dtype=bool)
        new[1:] = sorted_times[1:] != sorted_times[:-1]
        self._times = sorted_times[new]
        rank = np.empty(len(self.time), dtype=np.int64)
        rank[by_time] = np.cumsum(new) - 1
        self._stride = np.int64(len(self._times) + 1)
        self._keys = self.code * self._stride + rank
        self._cumsum: FloatArray | None = None
        if value is not None:
            ordered = np.nan_to_num(np.asarray(value, dtype=np.float64)[order])
            self._cumsum = np.concatenate(([0.0], np.cumsum(ordered)))

    def __len__(self) -> int:
        return len(self.time)

    def position(self, code: IntArray, t: IntArray) -> IntArray:
        """Index of the entity's first event at or after t (= end of its events before t)."""
        rank = np.searchsorted(self._times, t, side="left")
        return np.searchsorted(self._keys, code * self._stride + rank, side="left").astype(np.int64)

    def start(self, code: IntArray) -> IntArray:
        """Index of the entity's first event."""
        return np.searchsorted(self._keys, code * self._stride, side="left").astype(np.int64)

    def count_before(self, code: IntArray, t: IntArray) -> IntArray:
        return self.position(code, t) - self.start(code)

    def count_between(self, code: IntArray, lo: IntArray, hi: IntArray) -> IntArray:
        """Events in [lo, hi)."""
        counts: IntArray = np.maximum(self.position(code, hi) - self.position(code, lo), 0)
        return counts

    def sum_between(self, code: IntArray, lo: IntArray, hi: IntArray) -> FloatArray:
        """Summed values of the events in [lo, hi)."""
        if self._cumsum is None:
            raise ValueError("this stream carries no values")
        a, b = self.position(code, lo), self.position(code, hi)
        return np.where(b > a, self._cumsum[b] - self._cumsum[np.minimum(a, b)], 0.0)

    def last_before(self, code: IntArray, t: IntArray) -> tuple[IntArray, BoolArray]:
        """Index of the entity's last event before t, and whether there is one."""
        pos = self.position(code, t)
        found = pos > self.start(code)
        return np.where(found, pos - 1, 0), found

    def first_at_or_after(self, code: IntArray, t: IntArray) -> tuple[IntArray, BoolArray]:
        """Index of the entity's first event at or after t, and whether there is one."""
        pos = self.position(code, t)
        end = self.start(code + 1)
        found = pos < end
        return np.where(found, pos, 0), found

    def last_time_before(self, code: IntArray, t: IntArray) -> IntArray:
        """Time of the last event before t; NO_START where there is none."""
        idx, found = self.last_before(code, t)
        if len(self.time) == 0:
            return np.full(len(code), NO_START, dtype=np.int64)
        return np.where(found, self.time[idx], NO_START)


def days_between(later: IntArray, earlier: IntArray) -> FloatArray:
    """(later - earlier) in days; NaN where either side is a sentinel."""
    valid = (earlier != NO_START) & (earlier != NO_END) & (later != NO_START) & (later != NO_END)
    out = np.full(len(later), np.nan)
    out[valid] = (later[valid] - earlier[valid]) / US_PER_DAY
    return out


def weekly_slope(stream: Stream, code: IntArray, t: IntArray, *, weeks: int) -> FloatArray:
    """Least-squares slope of weekly event counts over the `weeks` weeks before t (events per
    week, per week). Positive when activity is growing."""
    bounds = [stream.position(code, t - k * days(7)) for k in range(weeks, -1, -1)]
    counts = np.stack([bounds[i + 1] - bounds[i] for i in range(weeks)], axis=1).astype(float)
    x = np.arange(weeks, dtype=float)
    xc = x - x.mean()
    slope: FloatArray = (counts - counts.mean(axis=1, keepdims=True)) @ xc / float(xc @ xc)
    return slope


def log_ratio_trend(
    recent: FloatArray, earlier: FloatArray, *, earlier_periods: float
) -> FloatArray:
    """ln((recent + 1) / (earlier / periods + 1)): below 0 when the recent period is quieter than
    the average of the earlier ones. The +1 keeps empty periods finite."""
    out: FloatArray = np.log((recent + 1.0) / (earlier / earlier_periods + 1.0))
    return out
