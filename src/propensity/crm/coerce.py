"""Turning a column of whatever a file held into typed Python values, one vector at a time.

Each parser returns the values as a list (None where missing or bad), a mask of missing
cells and a mask of cells that were present but unusable. Per-row Python is kept out of
the hot paths because the demo imports a million events at a time.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_datetime64_any_dtype,
    is_numeric_dtype,
)

Mask = npt.NDArray[np.bool_]

# Cells that mean "no value" in exported files, compared case-insensitively.
MISSING_TOKENS = ("", "na", "n/a", "null", "nan")
TRUE_TOKENS = ("true", "t", "yes", "y", "1")
FALSE_TOKENS = ("false", "f", "no", "n", "0")
# Tried in order on what ISO 8601 could not read; day-first dates are not guessed.
DATE_FORMATS = (
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M:%S",
    "%d.%m.%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
)
_INTEGER_TEXT = r"^[+-]?(0|[1-9]\d*)$"
_LEADING_ZERO = r"^[+-]?0\d"


@dataclass
class Parsed:
    values: list[Any]
    missing: Mask
    bad: Mask
    # The cell as written, for messages about bad cells.
    raw: pd.Series


def text_of(series: pd.Series) -> tuple[pd.Series, Mask]:
    """Stripped text of every cell and the mask of cells holding no value."""
    text = series.astype("string").str.strip()
    missing = text.isna().to_numpy(dtype=bool) | text.str.lower().isin(MISSING_TOKENS).to_numpy(
        dtype=bool, na_value=True
    )
    return text, missing


def missing_cells(series: pd.Series) -> Mask:
    """Cells that hold nothing: null, or text that says so ("", "NA", "null", ...)."""
    missing: Mask = series.isna().to_numpy(dtype=bool)
    if is_numeric_dtype(series.dtype) or is_bool_dtype(series.dtype):
        return missing
    text = series.astype("string").str.strip().str.lower()
    said = text.isin(MISSING_TOKENS).to_numpy(dtype=bool, na_value=True)
    out: Mask = missing | said
    return out


def _none_where(values: npt.NDArray[Any], mask: Mask) -> list[Any]:
    out = values.astype(object)
    out[mask] = None
    result: list[Any] = out.tolist()
    return result


def _numbers(series: pd.Series) -> tuple[npt.NDArray[np.float64], Mask, Mask, pd.Series]:
    if is_numeric_dtype(series.dtype) or is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        missing = np.isnan(values)
        return values, missing, np.isinf(values), series
    text, missing = text_of(series)
    parsed = pd.to_numeric(text.where(~missing), errors="coerce")
    values = np.asarray(parsed.to_numpy(dtype="float64", na_value=np.nan), dtype=np.float64)
    bad = ~missing & ~np.isfinite(values)
    return values, missing, bad, text


def parse_float(series: pd.Series) -> Parsed:
    values, missing, bad, raw = _numbers(series)
    return Parsed(_none_where(values, missing | bad), missing, bad, raw)


def parse_int(series: pd.Series) -> Parsed:
    values, missing, bad, raw = _numbers(series)
    with np.errstate(invalid="ignore"):
        bad = bad | (~missing & ~bad & (values != np.floor(values)))
    ok = ~(missing | bad)
    ints = np.zeros(len(values), dtype=np.int64)
    ints[ok] = values[ok].astype(np.int64)
    return Parsed(_none_where(ints, ~ok), missing, bad, raw)


def parse_bool(series: pd.Series) -> Parsed:
    if is_bool_dtype(series.dtype) and not series.hasnans:
        values = series.to_numpy(dtype=bool)
        nothing = np.zeros(len(values), dtype=bool)
        return Parsed(values.tolist(), nothing, nothing, series)
    text, missing = text_of(series)
    lowered = text.str.lower()
    true = lowered.isin(TRUE_TOKENS).to_numpy(dtype=bool, na_value=False)
    false = lowered.isin(FALSE_TOKENS).to_numpy(dtype=bool, na_value=False)
    bad = ~missing & ~true & ~false
    return Parsed(_none_where(true, missing | bad), missing, bad, text)


def parse_label(series: pd.Series, *, positive: str | None) -> Parsed:
    """An outcome column: `positive` (any case) is True and anything else False."""
    if positive is None:
        return parse_bool(series)
    text, missing = text_of(series)
    true = (text.str.lower() == positive.strip().lower()).to_numpy(dtype=bool, na_value=False)
    nothing = np.zeros(len(true), dtype=bool)
    return Parsed(_none_where(true, missing), missing, nothing, text)


def _timestamps(series: pd.Series) -> tuple[pd.Series, Mask, Mask, pd.Series]:
    """UTC timestamps; naive values are taken to be UTC already."""
    if is_datetime64_any_dtype(series.dtype):
        stamps = pd.to_datetime(series, utc=True)
        missing = stamps.isna().to_numpy(dtype=bool)
        return stamps, missing, np.zeros(len(stamps), dtype=bool), series
    text, missing = text_of(series)
    if is_numeric_dtype(series.dtype):
        # A bare number is not a timestamp: epoch units cannot be told apart safely.
        nat = pd.Series(pd.NaT, index=series.index, dtype="datetime64[us, UTC]")
        return nat, missing, ~missing, text
    candidates = text.where(~missing)
    stamps = pd.to_datetime(candidates, utc=True, format="ISO8601", errors="coerce")
    unread = ~missing & stamps.isna().to_numpy(dtype=bool)
    for fmt in DATE_FORMATS:
        if not unread.any():
            break
        retry = pd.to_datetime(candidates[unread], utc=True, format=fmt, errors="coerce")
        stamps.loc[unread] = retry
        unread = ~missing & stamps.isna().to_numpy(dtype=bool)
    return stamps, missing, unread, text


def parse_datetime(series: pd.Series) -> Parsed:
    stamps, missing, bad, raw = _timestamps(series)
    naive = stamps.dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
    return Parsed(_none_where(naive, missing | bad), missing, bad, raw)


def parse_date(series: pd.Series) -> Parsed:
    stamps, missing, bad, raw = _timestamps(series)
    days = stamps.dt.tz_convert(None).to_numpy(dtype="datetime64[D]")
    return Parsed(_none_where(days, missing | bad), missing, bad, raw)


def parse_text(series: pd.Series) -> Parsed:
    if pd.api.types.is_float_dtype(series.dtype):
        # Ids read as floats (a numeric column with gaps) are 123, not "123.0".
        present = series.dropna()
        if len(present) and bool((present == np.floor(present)).all()):
            series = series.astype("Int64")
    text, missing = text_of(series)
    values = text.to_numpy(dtype=object)
    nothing = np.zeros(len(values), dtype=bool)
    return Parsed(_none_where(values, missing), missing, nothing, text)


# --- attributes and event properties ---------------------------------------------------


def attribute_values(series: pd.Series, *, infer: bool) -> list[Any]:
    """JSON-ready values of an extra column; None where the cell holds nothing.

    Text from CSV is typed by the whole column: all integers -> int, all numbers ->
    float, all true/false -> bool, else text. Numbers written with a leading zero
    (zip codes, codes like 007) stay text so that nothing is lost.
    """
    dtype = series.dtype
    if is_bool_dtype(dtype):
        return _none_where(series.to_numpy(dtype=object), series.isna().to_numpy(dtype=bool))
    if is_numeric_dtype(dtype):
        return _numeric_attribute(series)
    if is_datetime64_any_dtype(dtype):
        stamps = pd.to_datetime(series, utc=True)
        iso = stamps.dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy(dtype=object)
        return _none_where(iso, stamps.isna().to_numpy(dtype=bool))
    if infer:
        return _inferred_attribute(series)
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        text, missing = text_of(series)
        return _none_where(text.to_numpy(dtype=object), missing)
    return [_jsonable(value) for value in series.to_numpy(dtype=object)]


def _numeric_attribute(series: pd.Series) -> list[Any]:
    floats = series.to_numpy(dtype="float64", na_value=np.nan)
    absent = ~np.isfinite(floats)
    if pd.api.types.is_integer_dtype(series.dtype):
        ints = np.where(absent, 0, floats).astype(np.int64) if absent.any() else series.to_numpy()
        return _none_where(np.asarray(ints, dtype=np.int64), absent)
    return _none_where(floats, absent)


def _inferred_attribute(series: pd.Series) -> list[Any]:
    text, missing = text_of(series)
    present = text[~missing]
    if len(present) == 0:
        return [None] * len(series)
    if not present.str.match(_LEADING_ZERO).any():
        if present.str.match(_INTEGER_TEXT).all():
            numbers = pd.to_numeric(present, errors="coerce")
            if numbers.notna().all() and numbers.abs().max() < 2**53:
                out = np.zeros(len(series), dtype=np.int64)
                out[~missing] = numbers.to_numpy(dtype=np.int64)
                return _none_where(out, missing)
        floats = pd.to_numeric(present, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        if np.isfinite(floats).all():
            out_f = np.zeros(len(series), dtype=np.float64)
            out_f[~missing] = floats
            return _none_where(out_f, missing)
    lowered = present.str.lower()
    if lowered.isin(("true", "false")).all():
        flags = (text.str.lower() == "true").to_numpy(dtype=bool, na_value=False)
        return _none_where(flags, missing)
    return _none_where(text.to_numpy(dtype=object), missing)


def _jsonable(value: Any) -> Any:
    """A value from a JSON document or a DataFrame as something json.dumps writes faithfully."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return None if value.strip().lower() in MISSING_TOKENS else value
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, datetime):
        naive = value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
        return naive.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict | list):
        # Nested JSON is kept as it was written (it already came from a JSON parser).
        return value
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    return str(value)


def finite_json(value: Any) -> bool:
    """Whether every number inside a parsed JSON value is finite (no NaN or Infinity)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return False
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return True


def json_object(value: Any) -> dict[str, Any] | None:
    """A nested `attributes`/`properties` cell: a dict or a JSON object's text.

    Raises ValueError for anything else.
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    parsed = value
    if isinstance(value, str):
        if value.strip().lower() in MISSING_TOKENS:
            return None
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError("not a JSON object") from exc
    if not isinstance(parsed, dict):
        raise ValueError("not a JSON object")
    return {str(k): _jsonable(v) for k, v in parsed.items() if _jsonable(v) is not None}
