"""Timestamps as int64 epoch microseconds, the one time unit of the feature code."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from propensity.features.windows import NO_START, IntArray

# Up to this many values, to_us converts in Python (pandas' parser has a fixed cost).
SMALL_TIMES = 64


Values = Sequence[Any] | pd.Series | npt.NDArray[Any]


def to_us(values: Values, *, fill: int) -> IntArray:
    """Datetimes (aware, naive = UTC, dates, ISO text) to epoch microseconds; missing -> fill."""
    if len(values) <= SMALL_TIMES:
        exact = small_to_us(values, fill=fill)
        if exact is not None:
            return exact
    series = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values
    if len(series) == 0:
        return np.zeros(0, dtype=np.int64)
    parsed = (
        pd.to_datetime(series, utc=True, format="ISO8601")
        if series.map(lambda v: isinstance(v, str)).any()
        else pd.to_datetime(series, utc=True)
    )
    raw = pd.DatetimeIndex(parsed).as_unit("us").asi8.copy()
    raw[raw == NO_START] = fill
    return raw.astype(np.int64)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# How SQLite stores dates and naive UTC datetimes; anything else goes to pandas' parser.
_STORED_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2}(\.\d{1,6})?)?$")
_ONE_US = timedelta(microseconds=1)


def small_to_us(values: Values, *, fill: int) -> IntArray | None:
    """to_us for a few datetimes, dates or missing values in integer arithmetic (exact, as
    pandas is for microsecond datetimes); None when any value needs pandas' parser (text)."""
    out = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values.tolist() if isinstance(values, pd.Series) else values):
        if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
            out[i] = fill
        elif isinstance(value, datetime) and not isinstance(value, pd.Timestamp):
            aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
            out[i] = (aware - _EPOCH) // _ONE_US
        elif isinstance(value, date) and not isinstance(value, datetime):
            out[i] = (datetime(value.year, value.month, value.day, tzinfo=UTC) - _EPOCH) // _ONE_US
        elif isinstance(value, str) and _STORED_TIME.match(value):
            out[i] = (datetime.fromisoformat(value).replace(tzinfo=UTC) - _EPOCH) // _ONE_US
        else:
            return None
    return out
