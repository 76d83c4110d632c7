"""A column's type is established by the tenant's data, and within a file by its other rows:
a value of another type is a row error, and nothing is imported.

Extra columns (stored as attributes or event properties) have no declared type; the first
import of a column decides it (all numbers, all true/false, or text). Afterwards a text value
where the column holds numbers (or true/false) is almost always a mistake in the export, such
as `tenure = not-a-number` among 7,043 numbers, and the model would silently lose the column
(it would become text). Refused instead, naming the row, the column and what was expected."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from propensity.crm.errors import RowError

NUMBER = "number"
BOOLEAN = "true/false"
TEXT = "text"
# A file's own rows establish a column's type when at least this share of its filled cells
# (and at least MIN_ESTABLISHED of them) are of that type.
ESTABLISHED_SHARE = 0.9
MIN_ESTABLISHED = 2
# Stored values sampled per column to learn what the tenant's data holds.
MIN_STORED = 20


def kind_of(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return BOOLEAN
    if isinstance(value, int | float | np.integer | np.floating):
        return NUMBER
    if isinstance(value, str):
        return TEXT
    return None  # nested objects and lists have no scalar type to hold to


def _kinds(values: pd.Series) -> npt.NDArray[np.object_]:
    """The type each filled cell holds, reading text for what it says ("12" is a number)."""
    text = values.astype("string").str.strip().str.lower()
    flags = text.isin(("true", "false")).to_numpy(dtype=bool, na_value=False)
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    kinds = np.full(len(values), TEXT, dtype=object)
    kinds[np.isfinite(numbers)] = NUMBER
    kinds[flags] = BOOLEAN
    return kinds


def file_outliers(series: pd.Series, present: npt.NDArray[np.bool_]) -> list[tuple[int, str]]:
    """(position, expected type) of the cells whose type differs from what the column's other
    filled cells establish (text cells of a CSV are read for what they hold: "12" is a number)."""
    if is_numeric_dtype(series.dtype) or is_bool_dtype(series.dtype):
        return []  # one type throughout
    positions = np.flatnonzero(present)
    if len(positions) < MIN_ESTABLISHED + 1:
        return []
    kinds = _kinds(series.iloc[positions])
    names, counts = np.unique(kinds, return_counts=True)
    best = int(np.argmax(counts))
    expected, count = str(names[best]), int(counts[best])
    if expected == TEXT or count == len(kinds) or count < MIN_ESTABLISHED:
        return []
    if count / len(kinds) < ESTABLISHED_SHARE:
        return []
    odd = np.flatnonzero(kinds != expected)
    return [(int(positions[i]), expected) for i in odd]


def stored_kinds(
    samples: Iterable[Mapping[str, Any] | None], keys: Sequence[str]
) -> dict[str, str]:
    """The type each of `keys` has in every one of the stored samples that hold it (enough of
    them): the tenant's established type of that column."""
    seen: dict[str, set[str]] = {key: set() for key in keys}
    counts = dict.fromkeys(keys, 0)
    for sample in samples:
        if not isinstance(sample, Mapping):
            continue
        for key in keys:
            kind = kind_of(sample.get(key))
            if kind is not None:
                seen[key].add(kind)
                counts[key] += 1
    return {
        key: next(iter(kinds))
        for key, kinds in seen.items()
        if len(kinds) == 1 and counts[key] >= MIN_STORED
    }


def against_stored(
    extras: Sequence[Mapping[str, Any]], rows: npt.NDArray[np.int64], expected: Mapping[str, str]
) -> list[RowError]:
    """Row errors for values whose type differs from the tenant's established one."""
    errors: list[RowError] = []
    for position, values in enumerate(extras):
        for key, kind in expected.items():
            value = values.get(key)
            found = kind_of(value)
            if found is not None and found != kind:
                errors.append(
                    RowError(int(rows[position]), key, mismatch(kind, value, "the tenant's data"))
                )
    return errors


def mismatch(expected: str, value: Any, where: str) -> str:
    shown = str(value) if len(str(value)) <= 40 else str(value)[:37] + "..."
    article = "a number" if expected == NUMBER else expected if expected == TEXT else "true/false"
    return f"expected {article} as in {where}, got {shown!r}"
