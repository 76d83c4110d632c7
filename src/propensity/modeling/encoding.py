"""Column coercion shared by preprocessing, statistics and confidence, so the three agree on what
a value is: numbers become float64 with NaN for missing, categories become strings or None."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from propensity.modeling.specs import FALSE_WORDS, TRUE_WORDS, FeatureKind

DAY_NS = 86_400 * 10**9
# Up to this many rows a plain Python loop beats pandas' vectorised string methods, whose fixed
# cost dominates when scoring one row at a time.
SMALL_BATCH = 64


def column_or_missing(frame: pd.DataFrame, name: str) -> pd.Series:
    """The named column, or an all-missing one: a column absent at scoring time is missing data,
    not an error, so one outdated client cannot take scoring down."""
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), dtype=object, index=frame.index)


def numeric_values(series: pd.Series, kind: FeatureKind, reference_ns: int | None) -> np.ndarray:
    """float64 values of a numeric, boolean or datetime column; NaN where missing or unreadable.

    Datetimes become days before `reference_ns` (the newest value seen in training), so the
    number means the same at scoring time as it did in training."""
    if kind is FeatureKind.DATETIME:
        if reference_ns is None:
            raise ValueError("a datetime column needs a reference time")
        stamps = timestamps_ns(series)
        out = (reference_ns - stamps.astype(np.float64)) / DAY_NS
        out[stamps == np.iinfo(np.int64).min] = np.nan
        return out
    if kind is FeatureKind.BOOLEAN:
        return boolean_values(series)
    if series.dtype.kind in "fiub":  # plain numpy numbers: no pandas round trip (scoring speed)
        return np.asarray(series.to_numpy(), dtype=np.float64)
    if pd.api.types.is_bool_dtype(series):
        return series.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
    if pd.api.types.is_numeric_dtype(series) and not isinstance(series.dtype, pd.CategoricalDtype):
        return series.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    text = series.astype(object).where(series.notna(), None)
    return (
        pd.to_numeric(text, errors="coerce")
        .astype("Float64")
        .to_numpy(dtype=np.float64, na_value=np.nan)
    )


def boolean_values(series: pd.Series) -> np.ndarray:
    numeric_like = pd.api.types.is_bool_dtype(series) or (
        pd.api.types.is_numeric_dtype(series) and not isinstance(series.dtype, pd.CategoricalDtype)
    )
    if numeric_like:
        values = (
            np.asarray(series.to_numpy(), dtype=np.float64)
            if series.dtype.kind in "fiub"
            else series.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
        )
        return np.where(np.isnan(values), np.nan, (values != 0).astype(np.float64))
    out = np.full(len(series), np.nan)
    for i, value in enumerate(series.tolist()):
        word = _word(value)
        if word in TRUE_WORDS:
            out[i] = 1.0
        elif word in FALSE_WORDS:
            out[i] = 0.0
    return out


def _word(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, int | float | np.integer | np.floating):
        return "1" if float(value) != 0 else "0"
    return str(value).strip().lower()


def timestamps_ns(series: pd.Series) -> np.ndarray:
    """UTC nanoseconds since the epoch as int64; NaT (int64 min) where missing or unreadable.
    Naive datetimes are taken as UTC."""
    if pd.api.types.is_datetime64_any_dtype(series):
        parsed = pd.to_datetime(series, utc=True)
    else:
        text = series.astype(object).where(series.notna(), None)
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format="mixed")
    return np.asarray(
        parsed.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    ).view(np.int64)


def category_values(series: pd.Series) -> np.ndarray:
    """Category labels as an object array of str, None where missing. Whole floats print as
    integers so a column read as 1.0 at scoring matches the 1 seen in training."""
    if (
        len(series) > SMALL_BATCH
        and pd.api.types.is_string_dtype(series)
        and series.dtype != object
    ):
        # Fast path for pandas string columns (what CSV readers produce): no per-value Python.
        text = series.str.strip()
        text = text.mask(text == "")
        return np.asarray(text.astype(object).where(text.notna(), None).to_numpy())
    out = np.empty(len(series), dtype=object)
    for i, value in enumerate(series.tolist()):
        out[i] = category_label(value)
    return out


def category_label(value: Any) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value))
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    text = str(value).strip()
    return text or None
