"""The vectorised primitives, against brute force and hand-computed cases (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from propensity.features.customers import next_anniversary
from propensity.features.windows import (
    NO_START,
    US_PER_DAY,
    US_PER_SECOND,
    Stream,
    days,
    log_ratio_trend,
    weekly_slope,
)


def us(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp()) * US_PER_SECOND


def test_counts_sums_and_last_match_brute_force() -> None:
    rng = np.random.default_rng(3)
    n = 4000
    code = rng.integers(0, 50, n)
    # Many ties, and sub-second stamps: the key must compare them exactly.
    time = rng.integers(0, 2000, n) * 500_000 + rng.integers(0, 3, n)
    value = rng.normal(size=n)
    stream = Stream(code=code, time=time, value=value)
    q_code = rng.integers(0, 52, 3000)  # codes 50 and 51 have no events at all
    q_t = rng.integers(0, 2000, 3000) * 500_000 + rng.integers(0, 3, 3000)
    lo = q_t - 40 * 500_000
    counts = stream.count_between(q_code, lo, q_t)
    sums = stream.sum_between(q_code, lo, q_t)
    last = stream.last_time_before(q_code, q_t)
    for i in range(0, 3000, 7):
        mine = code == q_code[i]
        window = mine & (time >= lo[i]) & (time < q_t[i])
        assert counts[i] == window.sum()
        assert np.isclose(sums[i], value[window].sum())
        before = time[mine & (time < q_t[i])]
        assert last[i] == (before.max() if len(before) else NO_START)
        assert stream.count_before(q_code[i : i + 1], q_t[i : i + 1])[0] == len(before)


def test_items_given_sorted_answer_as_when_the_stream_sorts_them() -> None:
    rng = np.random.default_rng(5)
    for entities in (1, 6):
        n = 300
        code = np.sort(rng.integers(0, entities, n))
        time = rng.integers(0, 200, n) * 500_000 + rng.integers(0, 2, n)  # ties
        order = np.lexsort((time, code))
        code, time = code[order], time[order]
        value = rng.normal(size=n)
        sorting = Stream(code=code, time=time, value=value)
        given = Stream(code=code, time=time, value=value, presorted=True)
        q_code = rng.integers(0, entities + 1, 500)
        q_t = rng.integers(0, 200, 500) * 500_000 + rng.integers(0, 2, 500)
        lo = q_t - 30 * 500_000
        assert np.array_equal(
            sorting.count_between(q_code, lo, q_t), given.count_between(q_code, lo, q_t)
        )
        assert np.array_equal(
            sorting.sum_between(q_code, lo, q_t), given.sum_between(q_code, lo, q_t)
        )
        assert np.array_equal(
            sorting.last_value_before(q_code, q_t),
            given.last_value_before(q_code, q_t),
            equal_nan=True,
        )
        assert np.array_equal(
            sorting.last_time_before(q_code, q_t), given.last_time_before(q_code, q_t)
        )


def test_an_event_exactly_at_t_is_not_before_t() -> None:
    stream = Stream(code=np.array([0, 0, 0]), time=np.array([10, 20, 30]))
    code = np.zeros(4, dtype=np.int64)
    t = np.array([10, 11, 20, 31])
    assert stream.count_before(code, t).tolist() == [0, 1, 1, 3]
    # [lo, hi): an event exactly at the window start is inside it.
    assert stream.count_between(code, np.array([10, 10, 21, 0]), t).tolist() == [0, 1, 0, 3]
    first, found = stream.first_at_or_after(code, np.array([10, 11, 30, 31]))
    assert found.tolist() == [True, True, True, False]
    assert stream.time[first[:3]].tolist() == [10, 20, 30]


def test_empty_stream() -> None:
    stream = Stream(code=np.zeros(0, dtype=np.int64), time=np.zeros(0, dtype=np.int64))
    code, t = np.array([0, 1]), np.array([5, 6])
    assert stream.count_before(code, t).tolist() == [0, 0]
    assert stream.last_time_before(code, t).tolist() == [NO_START, NO_START]


def test_weekly_slope_of_a_steady_decline() -> None:
    t0 = us(2024, 6, 1)
    # 12 weeks before t0: week k (0 = oldest) has 12 - k events.
    times = [t0 - (12 - k) * days(7) + days(1) for k in range(12) for _ in range(12 - k)]
    stream = Stream(code=np.zeros(len(times), dtype=np.int64), time=np.array(times))
    slope = weekly_slope(stream, np.array([0]), np.array([t0]), weeks=12)
    assert np.isclose(slope[0], -1.0)


def test_log_ratio_trend() -> None:
    trend = log_ratio_trend(np.array([3.0, 0.0]), np.array([6.0, 8.0]), earlier_periods=2.0)
    assert np.allclose(trend, [np.log(4 / 4), np.log(1 / 5)])


def test_next_anniversary() -> None:
    created = np.array([us(2023, 3, 15, 10), us(2020, 2, 29), us(2023, 3, 15, 10)])
    t = np.array([us(2024, 3, 1), us(2021, 3, 1), us(2024, 3, 15, 10)])
    nxt, number = next_anniversary(created, t)
    assert (nxt[0] - t[0]) / US_PER_DAY == 14 + 10 / 24
    assert number.tolist()[0] == 1
    # A 29 February start renews on 28 February in other years: the first was 2021-02-28,
    # so after 1 March 2021 the next is 2022-02-28, the second.
    assert nxt[1] == us(2022, 2, 28)
    assert number[1] == 2
    # Exactly at an anniversary: the next one is a year later.
    assert nxt[2] == us(2025, 3, 15, 10)
    assert number[2] == 2


def test_entity_running_sums_are_pandas_grouped_cumsum_bit_for_bit() -> None:
    """entity_cumsum's loops (one series at a time, or all series per step) give exactly what
    pandas' grouped cumsum gives, which a build above SMALL_CUMSUM items uses: a feature of one
    entity must equal the same feature in a build of all."""
    import pandas as pd

    from propensity.features.windows import entity_cumsum

    rng = np.random.default_rng(11)
    for k, n, entities in ((1, 40, 3), (3, 40, 1), (25, 14, 1), (25, 300, 7), (6, 1, 1)):
        code = np.sort(rng.integers(0, entities, n)).astype(np.int64)
        # Values of very different sizes, where compensation changes the last bits.
        values = rng.normal(size=(k, n)) * 10.0 ** rng.integers(-6, 9, (k, n))
        sums = entity_cumsum(code, values)
        expected = np.stack(
            [np.asarray(pd.Series(v).groupby(code, sort=False).cumsum()) for v in values]
        )
        assert np.array_equal(sums, expected), (k, n, entities)
    # NaN passes through, as pandas' skipna does.
    code = np.zeros(5, dtype=np.int64)
    values = np.array([[1.0, np.nan, 2.0, 3.0, np.nan]] * 4)
    expected_row = pd.Series(values[0]).groupby(code, sort=False).cumsum().to_numpy()
    np.testing.assert_array_equal(entity_cumsum(code, values), np.stack([expected_row] * 4))
