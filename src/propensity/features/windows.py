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
import pandas as pd

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
        presorted: bool = False,
    ) -> None:
        """`presorted`: the items already come sorted by (code, time), as a stored state's do;
        the sorts are skipped, which is most of the cost of a one-entity stream."""
        code = np.asarray(code, dtype=np.int64)
        time = np.asarray(time, dtype=np.int64)
        order = None if presorted else np.lexsort((time, code))
        self.code = code if order is None else code[order]
        self.time = time if order is None else time[order]
        # Rank of each time among the distinct times, by one sort (cheaper than np.unique
        # followed by a search); one entity's sorted items are already in time order.
        one_entity = presorted and (len(code) == 0 or code[0] == code[-1])
        by_time = None if one_entity else np.argsort(self.time, kind="stable")
        sorted_times = self.time if by_time is None else self.time[by_time]
        new = np.ones(len(sorted_times), dtype=bool)
        new[1:] = sorted_times[1:] != sorted_times[:-1]
        self._times = sorted_times[new]
        rank: IntArray
        if by_time is None:
            rank = np.cumsum(new) - 1
        else:
            rank = np.empty(len(self.time), dtype=np.int64)
            rank[by_time] = np.cumsum(new) - 1
        self._stride = np.int64(len(self._times) + 1)
        self._keys = self.code * self._stride + rank
        self._cumsum: FloatArray | None = None
        # The values as given (NaN kept), in the stream's order: a value stamped on the last
        # event before t is read from here, sums from the running sums.
        self.value: FloatArray | None = None
        if value is not None:
            given = np.asarray(value, dtype=np.float64)
            self.value = given if order is None else given[order]
            self._cumsum = entity_cumsum(self.code, np.nan_to_num(self.value))

    def __len__(self) -> int:
        return len(self.time)

    def position(self, code: IntArray, t: IntArray) -> IntArray:
        """Index of the entity's first event at or after t (= end of its events before t)."""
        # The arrays' own methods: np.searchsorted's dispatch doubled the cost of the few-item
        # searches of a one-entity build, which makes about 180 of them.
        rank = self._times.searchsorted(t, side="left")
        found = self._keys.searchsorted(code * self._stride + rank, side="left")
        return found.astype(np.int64, copy=False)

    def start(self, code: IntArray) -> IntArray:
        """Index of the entity's first event."""
        return self._keys.searchsorted(code * self._stride, side="left").astype(
            np.int64, copy=False
        )

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
        return window_sum(
            self._cumsum, self.start(code), self.position(code, lo), self.position(code, hi)
        )

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

    def last_value_before(self, code: IntArray, t: IntArray) -> FloatArray:
        """Value of the entity's last event before t; NaN where there is none."""
        if self.value is None:
            raise ValueError("this stream carries no values")
        idx, found = self.last_before(code, t)
        if not len(self.time):
            return np.full(len(code), np.nan)
        out: FloatArray = np.where(found, self.value[idx], np.nan)
        return out

    def last_time_before(self, code: IntArray, t: IntArray) -> IntArray:
        """Time of the last event before t; NO_START where there is none."""
        idx, found = self.last_before(code, t)
        if len(self.time) == 0:
            return np.full(len(code), NO_START, dtype=np.int64)
        return np.where(found, self.time[idx], NO_START)


# Up to this many values, entity_cumsum runs a plain loop instead of a pandas groupby.
SMALL_CUMSUM = 4096


def entity_cumsum(code: IntArray, values: FloatArray) -> FloatArray:
    """Running sums restarted at each entity (`code` sorted). A window sum then depends only on
    that entity's own values: a global running sum would round differently depending on which
    other entities were loaded, and scoring one entity must give exactly the training value."""
    if not len(values):
        return np.zeros(0)
    if len(values) <= SMALL_CUMSUM:
        return _kahan_cumsum(code, values)
    sums = pd.Series(values).groupby(code, sort=False).cumsum()
    return np.asarray(sums, dtype=np.float64)


def _kahan_cumsum(code: IntArray, values: FloatArray) -> FloatArray:
    """pandas' grouped cumsum (Kahan-compensated, in row order), step for step in Python
    floats (IEEE doubles, like its C loop): for the few hundred values of one entity the
    groupby machinery costs a hundred times the arithmetic. NaN values are not expected (the
    callers pass zeros for missing) and are passed through like pandas does with skipna."""
    out = np.empty(len(values), dtype=np.float64)
    sums: dict[int, float] = {}
    comps: dict[int, float] = {}
    for i, (key, value) in enumerate(zip(code.tolist(), values.tolist(), strict=True)):
        if value != value:
            out[i] = value
            continue
        total = sums.get(key, 0.0)
        y = value - comps.get(key, 0.0)
        t = total + y
        comps[key] = t - total - y
        sums[key] = t
        out[i] = t
    return out


def window_sum(cumsum: FloatArray, start: IntArray, a: IntArray, b: IntArray) -> FloatArray:
    """Sum of entries [a, b) of one entity's segment beginning at `start`, from its running
    sums."""
    if not len(cumsum):
        return np.zeros(len(a))
    upper = np.where(b > start, cumsum[np.maximum(b - 1, 0)], 0.0)
    lower = np.where(a > start, cumsum[np.maximum(a - 1, 0)], 0.0)
    return np.where(b > a, upper - lower, 0.0)


def weekly_slope(stream: Stream, code: IntArray, t: IntArray, *, weeks: int) -> FloatArray:
    """Least-squares slope of weekly event counts over the `weeks` weeks before t (events per
    week, per week). Positive when activity is growing."""
    bounds = [stream.position(code, t - k * days(7)) for k in range(weeks, -1, -1)]
    x = np.arange(weeks, dtype=float)
    xc = x - x.mean()
    # Element-wise sums in a fixed order (a matrix product may round differently with the
    # number of rows, and a row's value must not depend on which other rows are computed).
    slope = np.zeros(len(code))
    for week in range(weeks):
        slope += xc[week] * (bounds[week + 1] - bounds[week])
    out: FloatArray = slope / float(xc @ xc)
    return out


def log_ratio_trend(
    recent: FloatArray, earlier: FloatArray, *, earlier_periods: float
) -> FloatArray:
    """ln((recent + 1) / (earlier / periods + 1)): below 0 when the recent period is quieter than
    the average of the earlier ones. The +1 keeps empty periods finite."""
    out: FloatArray = np.log((recent + 1.0) / (earlier / earlier_periods + 1.0))
    return out
