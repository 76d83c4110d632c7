"""Vectorised "what happened before t" queries over a stream of timestamped events.

Every feature of the point-in-time builder reduces to a few questions per (entity, t) row: how
many events in [t - w, t), their summed value, the time of the last one before t. A `Stream`
answers each question for all rows at once with `np.searchsorted` on one sorted key array, so
the cost grows with the number of events and rows, never with entity-by-entity Python loops.

Times are int64 microseconds since the epoch (UTC) throughout the package.

Exactness: the key of an event is (entity code, rank of the event in time order), so ties and
sub-second stamps compare exactly; "before t" always means strictly before.
"""

from __future__ import annotations

import math
from functools import lru_cache

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

    The queries broadcast: `t`, `lo` and `hi` may be (k, n) arrays against n codes, so the k
    windows of one stream are answered by one search (see `ago`) instead of one per window.
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
        # The key of an item is (entity, rank of the item in time order). Items before t are
        # those ranked below the number of items before t (ties rank in stream order, which
        # within an entity is time order), so one search of the sorted times ranks a query
        # exactly. One entity's sorted items are already in time order: their ranks are their
        # indices, and the stream needs no sort at all.
        n = len(self.time)
        self._stride = np.int64(n + 1)
        # The one entity whose items these are (-1: no items, so any), else None.
        self._entity: int | None = None
        if presorted and (n == 0 or code[0] == code[-1]):
            self._entity = int(code[0]) if n else -1
            self._times = self.time
            first = self._entity * (n + 1) if n else 0
            self._keys: IntArray = np.arange(first, first + n, dtype=np.int64)
        else:
            by_time = np.argsort(self.time, kind="stable")
            self._times = self.time[by_time]
            rank = np.empty(n, dtype=np.int64)
            rank[by_time] = np.arange(n, dtype=np.int64)
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

    def _own(self, code: IntArray) -> bool:
        """Whether `code` is one row about this one-entity stream's entity (a one-entity
        build asking its own streams): its items are then all the stream's, from index 0."""
        return (
            self._entity is not None
            and code.shape == (1,)
            and (self._entity < 0 or code[0] == self._entity)
        )

    def position(self, code: IntArray, t: IntArray) -> IntArray:
        """Index of the entity's first event at or after t (= end of its events before t)."""
        # The arrays' own methods: np.searchsorted's dispatch doubled the cost of the few-item
        # searches of a one-entity build.
        if self._own(code):
            return self.time.searchsorted(t, side="left").astype(np.int64, copy=False)
        rank = self._times.searchsorted(t, side="left")
        found = self._keys.searchsorted(code * self._stride + rank, side="left")
        return found.astype(np.int64, copy=False)

    def start(self, code: IntArray) -> IntArray:
        """Index of the entity's first event."""
        if self._own(code):
            return np.zeros(1, dtype=np.int64)
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
        if not len(self.time):
            return np.full(np.broadcast(code, t).shape, np.nan)
        idx, found = self.last_before(code, t)
        out: FloatArray = np.where(found, self.value[idx], np.nan)
        return out

    def last_time_before(self, code: IntArray, t: IntArray) -> IntArray:
        """Time of the last event before t; NO_START where there is none."""
        if not len(self.time):
            return np.full(np.broadcast(code, t).shape, NO_START)
        pos = self.position(code, t)
        # pos - 1 is the entity's last event before t where it has one; elsewhere it points at
        # another entity's event (or wraps to the end), and NO_START replaces it.
        return np.where(pos > self.start(code), self.time[pos - 1], NO_START)


def ago(t: IntArray, *day_counts: int) -> IntArray:
    """The times `d` days before each t, one row per d: the starts (or ends) of several
    windows at once, for a stream query to answer by one search."""
    return t - _day_offsets(day_counts)


@lru_cache(maxsize=64)
def _day_offsets(day_counts: tuple[int, ...]) -> IntArray:
    """(k, 1) microseconds; the few window sets there are, built once."""
    offsets = np.array([[days(d)] for d in day_counts], dtype=np.int64)
    offsets.flags.writeable = False
    return offsets


# Up to this many values, entity_cumsum runs a plain loop instead of a pandas groupby.
SMALL_CUMSUM = 4096


def entity_cumsum(code: IntArray, values: FloatArray) -> FloatArray:
    """Running sums restarted at each entity (`code` sorted). A window sum then depends only on
    that entity's own values: a global running sum would round differently depending on which
    other entities were loaded, and scoring one entity must give exactly the training value.
    `values` may hold several series over the same items (its last axis), each summed alone."""
    series = values.reshape(math.prod(values.shape[:-1]), values.shape[-1])
    if values.shape[-1] <= SMALL_CUMSUM:
        sums = _kahan_cumsum(code, series)
    else:
        sums = np.stack(
            [
                np.asarray(pd.Series(v).groupby(code, sort=False).cumsum(), dtype=np.float64)
                for v in series
            ]
        )
    return sums.reshape(values.shape)


def _kahan_cumsum(code: IntArray, series: FloatArray) -> FloatArray:
    """pandas' grouped cumsum (Kahan-compensated, in row order), step for step in Python
    floats (IEEE doubles, like its C loop): for the few hundred values of one entity the
    groupby machinery costs a hundred times the arithmetic. `series` is (k, items): every
    series in one call (the health slopes' 25 running sums of one entity take half the time
    they took one call each). NaN values are not expected (the callers pass zeros for
    missing) and are passed through like pandas does with skipna."""
    if len(series) >= _VECTOR_SERIES and not np.isnan(series).any():
        return _kahan_cumsum_across(code, series)
    codes = code.tolist()
    out: list[list[float]] = []
    for values in series.tolist():
        sums: list[float] = []
        total = comp = 0.0
        entity = None
        for key, value in zip(codes, values, strict=True):
            if key != entity:  # `code` is sorted: the next entity's sums start from zero
                entity, total, comp = key, 0.0, 0.0
            if value != value:
                sums.append(value)
                continue
            y = value - comp
            t = total + y
            comp = t - total - y
            total = t
            sums.append(t)
        out.append(sums)
    return np.array(out, dtype=np.float64).reshape(series.shape)


# From this many series on, _kahan_cumsum steps through the items once with a vector of all
# the series (the health slopes' 25 sums of one entity: 43 us against 88).
_VECTOR_SERIES = 4


def _kahan_cumsum_across(code: IntArray, series: FloatArray) -> FloatArray:
    """_kahan_cumsum of NaN-free series, each step applied to every series at once: the same
    IEEE double operations in the same order, so the same bits."""
    k, n = series.shape
    out = np.empty((k, n), dtype=np.float64)
    columns = np.ascontiguousarray(series.T, dtype=np.float64)
    total = comp = np.zeros(k)
    entity = None
    for j, key in enumerate(code.tolist()):
        if key != entity:
            entity, total, comp = key, np.zeros(k), np.zeros(k)
        y = columns[j] - comp
        t = total + y
        comp = (t - total) - y
        total = t
        out[:, j] = t
    return out


def window_sum(cumsum: FloatArray, start: IntArray, a: IntArray, b: IntArray) -> FloatArray:
    """Sum of entries [a, b) of one entity's segment beginning at `start`, from its running
    sums (the last axis of `cumsum`; leading axes are several series over the same items)."""
    if not cumsum.shape[-1]:
        return np.zeros(cumsum.shape[:-1] + np.broadcast_shapes(np.shape(start), a.shape, b.shape))
    upper = np.where(b > start, cumsum[..., np.maximum(b - 1, 0)], 0.0)
    lower = np.where(a > start, cumsum[..., np.maximum(a - 1, 0)], 0.0)
    return np.where(b > a, upper - lower, 0.0)


def weekly_slope(stream: Stream, code: IntArray, t: IntArray, *, weeks: int) -> FloatArray:
    """Least-squares slope of weekly event counts over the `weeks` weeks before t (events per
    week, per week). Positive when activity is growing."""
    bounds = stream.position(code, ago(t, *range(7 * weeks, -1, -7)))
    xc, norm = _centred_weeks(weeks)
    terms = xc[:, np.newaxis] * (bounds[1:] - bounds[:-1])
    # Element-wise sums in a fixed order (a matrix product or a sum over the weeks may round
    # differently with the number of rows, and a row's value must not depend on which other
    # rows are computed).
    slope = np.zeros(len(code))
    for term in terms:
        slope += term
    out: FloatArray = slope / norm
    return out


@lru_cache(maxsize=8)
def _centred_weeks(weeks: int) -> tuple[FloatArray, float]:
    """The week numbers minus their mean, and their sum of squares."""
    x = np.arange(weeks, dtype=float)
    xc = x - x.mean()
    xc.flags.writeable = False
    return xc, float(xc @ xc)


def log_ratio_trend(
    recent: FloatArray, earlier: FloatArray, *, earlier_periods: float
) -> FloatArray:
    """ln((recent + 1) / (earlier / periods + 1)): below 0 when the recent period is quieter than
    the average of the earlier ones. The +1 keeps empty periods finite."""
    out: FloatArray = np.log((recent + 1.0) / (earlier / earlier_periods + 1.0))
    return out
