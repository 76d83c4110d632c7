"""An entity table's columns: named 1-D numpy arrays of one length, read-only.

The feature code reads whole columns by name. A pandas DataFrame cost more to build than a
one-entity query, and 25-50 us per column read; here a read is a dict lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

Array = npt.NDArray[Any]
BoolArray = npt.NDArray[np.bool_]


class Columns:
    """Columns by name, in order; `len` is the number of rows (also with no column)."""

    __slots__ = ("_arrays", "_length")

    def __init__(self, arrays: Mapping[str, Array], *, length: int) -> None:
        stored: dict[str, Array] = {}
        for name, array in arrays.items():
            if array.shape != (length,):
                raise ValueError(f"column {name!r} has shape {array.shape}, not ({length},)")
            # A read-only view: readers share the arrays, none may change them for the others.
            view = array.view()
            view.flags.writeable = False
            stored[name] = view
        self._arrays = stored
        self._length = length

    def __getitem__(self, name: str) -> Array:
        return self._arrays[name]

    def __contains__(self, name: object) -> bool:
        return name in self._arrays

    def __len__(self) -> int:
        return self._length

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._arrays)

    def __repr__(self) -> str:
        return f"Columns({len(self)} rows: {', '.join(self._arrays)})"


def object_array(values: Iterable[Any], length: int) -> Array:
    """The values as a 1-D object array, each value kept as it is: np.array would turn a
    list among them into a second dimension."""
    return np.fromiter(values, dtype=object, count=length)


def missing(values: Array) -> BoolArray:
    """Where a column has no value (None, NaN): pandas' isna, as the DataFrame readers had it."""
    return np.asarray(pd.isna(values), dtype=bool)
