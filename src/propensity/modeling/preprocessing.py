"""Label-free preprocessing shared by every model family: one float64 design matrix with NaN for
missing numbers and one-hot columns for categories. It is fitted on the development rows only and
its state is plain JSON (no pickle), so an artifact can be read by any later version."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from propensity.modeling.encoding import (
    SMALL_BATCH,
    category_label,
    category_values,
    column_or_missing,
    numeric_values,
    timestamps_ns,
)
from propensity.modeling.specs import FeatureKind, FeatureSpec
from propensity.modeling.table import Table

# A category needs this many training rows to get its own column; rarer ones share "__other__"
# with categories never seen in training, so a typo at scoring time lands where rare values did.
MIN_LEVEL_COUNT = 5
# At most this many one-hot columns per feature: beyond it a column is an identifier or free text
# and more columns only slow training down.
MAX_LEVELS = 30
OTHER = "__other__"
MISSING = "__missing__"


@dataclass(frozen=True, kw_only=True)
class FeaturePlan:
    """How one feature becomes matrix columns."""

    spec: FeatureSpec
    levels: tuple[str, ...] = ()  # categorical: categories with their own column
    other: bool = False  # categorical: a column for rare and unseen categories
    missing: bool = False  # categorical: a column for missing values
    reference_ns: int | None = None  # datetime: the newest training value, "days before" origin

    @property
    def is_categorical(self) -> bool:
        return self.spec.kind is FeatureKind.CATEGORICAL

    def column_names(self) -> list[str]:
        name = self.spec.name
        if not self.is_categorical:
            return [name]
        names = [f"{name}={level}" for level in self.levels]
        if self.other:
            names.append(f"{name}={OTHER}")
        if self.missing:
            names.append(f"{name}={MISSING}")
        return names

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec.to_dict(),
            "levels": list(self.levels),
            "other": self.other,
            "missing": self.missing,
            "reference_ns": self.reference_ns,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeaturePlan:
        return cls(
            spec=FeatureSpec.from_dict(data["spec"]),
            levels=tuple(data["levels"]),
            other=bool(data["other"]),
            missing=bool(data["missing"]),
            reference_ns=data["reference_ns"],
        )


Decoded = np.ndarray  # float64 values for numeric-like features, object (str | None) for categories


# numpy dtype kinds whose values are plain numbers (float, int, unsigned, bool).
PLAIN_KINDS = frozenset("fiub")


def _series_values(plan: FeaturePlan, series: pd.Series) -> Decoded:
    """A column's values through the pandas column functions (any dtype)."""
    if plan.is_categorical:
        return category_values(series)
    return numeric_values(series, plan.spec.kind, plan.reference_ns)


def _plain_values(
    plan: FeaturePlan, values: Sequence[Any] | np.ndarray, *, plain: bool
) -> Decoded | None:
    """Values decoded without pandas: categories always (label by label), numbers and booleans
    when their column has a plain numpy dtype (`plain`: float64 round-trips exactly); None for
    anything else, which the column functions decode."""
    kind = plan.spec.kind
    if plan.is_categorical:
        items = values.tolist() if isinstance(values, np.ndarray) else values
        return np.asarray([category_label(v) for v in items], dtype=object)
    if plain and kind is FeatureKind.NUMERIC:
        return np.asarray(values, dtype=np.float64)
    if plain and kind is FeatureKind.BOOLEAN:
        numbers = np.asarray(values, dtype=np.float64)
        return np.where(np.isnan(numbers), np.nan, (numbers != 0).astype(np.float64))
    return None


class Preprocessor:
    """Frame -> design matrix. `column_feature[j]` is the feature index of matrix column j, which
    is how contributions of one-hot columns are summed back to the feature a user knows."""

    def __init__(self, plans: Sequence[FeaturePlan]) -> None:
        self.plans = tuple(plans)
        self.columns: list[str] = []
        owners: list[int] = []
        for index, plan in enumerate(self.plans):
            names = plan.column_names()
            self.columns.extend(names)
            owners.extend([index] * len(names))
        self.column_feature = np.asarray(owners, dtype=np.int64)
        # Built once: scoring one row at a time must not rebuild an index per feature.
        self._levels = [pd.Index(list(plan.levels), dtype=object) for plan in self.plans]
        self._positions = [{level: i for i, level in enumerate(plan.levels)} for plan in self.plans]
        self.is_onehot = np.asarray([self.plans[i].is_categorical for i in owners], dtype=bool)
        # Where each feature's first matrix column is, split by kind, for matrix() of a few rows.
        starts = np.concatenate([[0], np.cumsum([len(p.column_names()) for p in self.plans])])
        self._numeric_at = [
            (i, int(starts[i])) for i, p in enumerate(self.plans) if not p.is_categorical
        ]
        self._numeric_features = np.asarray([i for i, _ in self._numeric_at], dtype=np.int64)
        self._numeric_columns = np.asarray([c for _, c in self._numeric_at], dtype=np.int64)
        self._categorical_at = [
            (i, int(starts[i])) for i, p in enumerate(self.plans) if p.is_categorical
        ]

    @property
    def specs(self) -> tuple[FeatureSpec, ...]:
        return tuple(plan.spec for plan in self.plans)

    @property
    def n_features(self) -> int:
        return len(self.plans)

    @classmethod
    def fit(cls, frame: pd.DataFrame, features: Sequence[FeatureSpec]) -> Preprocessor:
        plans: list[FeaturePlan] = []
        for spec in features:
            series = column_or_missing(frame, spec.name)
            if spec.kind is FeatureKind.CATEGORICAL:
                values = category_values(series)
                counts = Counter(v for v in values.tolist() if v is not None)
                ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                levels = tuple(k for k, c in ranked[:MAX_LEVELS] if c >= MIN_LEVEL_COUNT)
                kept = set(levels)
                plans.append(
                    FeaturePlan(
                        spec=spec,
                        levels=levels,
                        other=any(k not in kept for k in counts),
                        missing=bool(pd.isna(values).any()),
                    )
                )
            elif spec.kind is FeatureKind.DATETIME:
                stamps = timestamps_ns(series)
                present = stamps[stamps != np.iinfo(np.int64).min]
                reference = int(present.max()) if present.size else 0
                plans.append(FeaturePlan(spec=spec, reference_ns=reference))
            else:
                plans.append(FeaturePlan(spec=spec))
        return cls(plans)

    def decode(self, frame: pd.DataFrame | Table) -> list[Decoded]:
        """Per feature, its values as the model reads them (before one-hot encoding)."""
        if isinstance(frame, Table):
            return self._decode_table(frame)
        if len(frame) <= SMALL_BATCH:
            return self._decode_small(frame)
        return [
            _series_values(plan, column_or_missing(frame, plan.spec.name)) for plan in self.plans
        ]

    def _decode_small(self, frame: pd.DataFrame) -> list[Decoded]:
        """decode() for a few rows: one conversion of the whole frame to Python objects instead
        of a pandas column lookup per feature, which is most of the cost of scoring one row.
        Plain numeric columns and categories decode from those objects to the same values
        (float64 round-trips exactly; category_label reads the same objects as Series.tolist());
        anything else takes the column path."""
        position = {name: j for j, name in enumerate(frame.columns)}
        # Plain numpy dtypes only: a nullable extension dtype converts to pd.NA objects.
        kinds = [dtype.kind if isinstance(dtype, np.dtype) else "" for dtype in frame.dtypes]
        table = frame.to_numpy(dtype=object)
        decoded: list[Decoded] = []
        for plan in self.plans:
            j = position.get(plan.spec.name)
            values = (
                None
                if j is None
                else _plain_values(plan, table[:, j].tolist(), plain=kinds[j] in PLAIN_KINDS)
            )
            if values is None:
                values = _series_values(plan, column_or_missing(frame, plan.spec.name))
            decoded.append(values)
        return decoded

    def _decode_table(self, table: Table) -> list[Decoded]:
        """decode() of a Table: plain numpy columns and a few rows of text directly, anything
        else through the same column functions as a DataFrame's, so the values are equal."""
        decoded: list[Decoded] = []
        n = len(table)
        for plan in self.plans:
            column = table.get(plan.spec.name)
            values: Decoded | None = None
            # Text in Python only for a few rows: pandas' string methods win beyond.
            if isinstance(column, np.ndarray) and (n <= SMALL_BATCH or not plan.is_categorical):
                values = _plain_values(plan, column, plain=column.dtype.kind in PLAIN_KINDS)
            if values is None:
                if column is None:
                    series = pd.Series([None] * n, dtype=object)
                else:
                    series = column if isinstance(column, pd.Series) else pd.Series(column)
                    if plan.is_categorical and table.is_text(plan.spec.name):
                        series = series.astype("str")
                values = _series_values(plan, series)
            decoded.append(values)
        return decoded

    def transform(self, frame: pd.DataFrame | Table) -> np.ndarray:
        return self.matrix(self.decode(frame))

    def matrix(self, decoded: Sequence[Decoded]) -> np.ndarray:
        n = len(decoded[0]) if decoded else 0
        few = n <= SMALL_BATCH
        out = np.zeros((n, len(self.columns)), dtype=np.float64)
        if few and len(self._numeric_columns):
            # A few rows: every number in one assignment, not a numpy call per feature (a
            # one-row matrix of 119 columns cost 190-340 us that way, 73 us so).
            numbers = np.array([decoded[i] for i in self._numeric_features], dtype=np.float64)
            out[:, self._numeric_columns] = numbers.T
        elif not few:
            for index, col in self._numeric_at:
                out[:, col] = decoded[index]
        for index, col in self._categorical_at:
            plan, values = self.plans[index], decoded[index]
            if few:
                # A dict lookup per value: an Index per feature costs more for a few rows.
                position = self._positions[index]
                codes = np.asarray([position.get(v, -1) for v in values.tolist()], dtype=np.int64)
            else:
                codes = self._levels[index].get_indexer(pd.Index(values, dtype=object))
            rows = np.flatnonzero(codes >= 0)
            out[rows, col + codes[rows]] = 1.0
            absent = pd.isna(values)
            if plan.missing:
                out[absent, col + len(plan.levels) + int(plan.other)] = 1.0
            if plan.other:
                # Rare and never-seen categories share one column. Without it an unseen category
                # leaves every level column at 0, which the models read as "none of the known".
                out[(codes < 0) & ~absent, col + len(plan.levels)] = 1.0
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"plans": [plan.to_dict() for plan in self.plans]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessor:
        return cls([FeaturePlan.from_dict(p) for p in data["plans"]])
