"""`Table`: named feature columns for scoring, without building a DataFrame.

Scoring one entity read its hundred feature values into a one-row DataFrame, decoded that
back into Python objects, and converted it again for the stored values: building the frame
alone was a quarter of a fresh prediction's CPU. A Table keeps the columns as they were
computed (numpy arrays, or pandas Series where a feature made one) and gives the models and
the scorer what they read: a column by name, the rows as Python objects, a subset of rows.
`to_frame()` is the DataFrame the same columns always made, for the readers that want one.

Category columns hold text the way a pandas "str" column does: every present value as
`str(value)`, missing as None (pandas: NaN), so both decode to the same labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

Column = np.ndarray | pd.Series


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or value != value


def text_column(values: Column | Sequence[Any]) -> np.ndarray:
    """Values as a text column (object array of str, None where missing): what
    `pd.Series(values, dtype="str")` holds, without pandas."""
    items = values.tolist() if isinstance(values, np.ndarray | pd.Series) else list(values)
    out = np.empty(len(items), dtype=object)
    out[:] = [None if _missing(v) else str(v) for v in items]
    return out


class Table:
    """Equal-length named columns, in order."""

    def __init__(self, columns: Mapping[str, Column], n_rows: int, *, text: Sequence[str] = ()):
        self._columns = dict(columns)
        self.n_rows = n_rows
        # Which columns are text (pandas "str" in to_frame); the others keep their dtype.
        self._text = frozenset(text)
        for name, values in self._columns.items():
            if len(values) != n_rows:
                raise ValueError(f"column {name!r}: {len(values)} values for {n_rows} rows")

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def __len__(self) -> int:
        return self.n_rows

    def get(self, name: str) -> Column | None:
        return self._columns.get(name)

    def is_text(self, name: str) -> bool:
        return name in self._text

    def take(self, rows: np.ndarray | slice) -> Table:
        """These rows (positions or a slice), in that order."""
        picked: dict[str, Column] = {}
        for name, values in self._columns.items():
            part = values.iloc[rows] if isinstance(values, pd.Series) else values[rows]
            picked[name] = part.reset_index(drop=True) if isinstance(part, pd.Series) else part
        return Table(picked, _count(rows, self.n_rows), text=tuple(self._text))

    def records(self) -> list[list[Any]]:
        """Row-major Python objects (numpy scalars become Python ones, missing text None)."""
        if not self.n_rows:
            return []
        columns = [
            values.tolist() if isinstance(values, np.ndarray | pd.Series) else list(values)
            for values in self._columns.values()
        ]
        return [list(row) for row in zip(*columns, strict=True)]

    def to_frame(self) -> pd.DataFrame:
        """The DataFrame of these columns; text columns as pandas "str"."""
        data = {
            name: pd.Series(values, dtype="str")
            if name in self._text and not _is_str_series(values)
            else values
            for name, values in self._columns.items()
        }
        return pd.DataFrame(data, index=pd.RangeIndex(self.n_rows))


def _is_str_series(values: Column) -> bool:
    return isinstance(values, pd.Series) and pd.api.types.is_string_dtype(values.dtype)


def _count(rows: np.ndarray | slice, n_rows: int) -> int:
    if isinstance(rows, slice):
        return len(range(*rows.indices(n_rows)))
    return len(rows)
