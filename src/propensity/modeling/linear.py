"""Regularised linear models (logistic for binary targets, ridge for numeric ones) on the shared
design matrix, with their own label-free transform: winsorising, median imputation with missing
indicators, standard scaling. Because every scaled column has mean 0 on the training rows,
coefficient * scaled value is exactly "coefficient * (value - training mean)" and the intercept is
the bias, which is what makes linear explanations additive."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge

# Numeric inputs are clipped to these training percentiles: a value far beyond anything seen in
# training would otherwise move a linear margin without bound.
CLIP_PERCENTILES = (1.0, 99.0)
LOGISTIC_C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
RIDGE_ALPHA_GRID = (0.1, 1.0, 10.0, 100.0, 1000.0)

LinearKind = Literal["logistic", "ridge"]


@dataclass(kw_only=True)
class LinearModel:
    kind: LinearKind
    strength: float  # C for logistic, alpha for ridge
    numeric: np.ndarray  # bool per design column: clip and impute it (one-hot columns are not)
    low: np.ndarray
    high: np.ndarray
    median: np.ndarray
    indicator: np.ndarray  # design-column indices that get a missing indicator
    mean: np.ndarray  # per expanded column (design columns then indicators)
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def expanded_owner(self, column_feature: np.ndarray) -> np.ndarray:
        """Feature index of each expanded column: indicators belong to their value's feature."""
        return np.concatenate([column_feature, column_feature[self.indicator]])

    def scaled(self, x: np.ndarray) -> np.ndarray:
        expanded = _expand(x, self.numeric, self.low, self.high, self.median, self.indicator)
        return np.asarray((expanded - self.mean) / self.scale, dtype=np.float64)

    def margin(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.scaled(x) @ self.coef + self.intercept, dtype=np.float64)

    def column_contributions(self, x: np.ndarray) -> np.ndarray:
        """Per expanded column: coefficient * centred scaled value (sums to margin - intercept)."""
        return np.asarray(self.scaled(x) * self.coef, dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "strength": self.strength,
            "numeric": self.numeric.tolist(),
            "low": self.low.tolist(),
            "high": self.high.tolist(),
            "median": self.median.tolist(),
            "indicator": self.indicator.tolist(),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinearModel:
        kind: LinearKind = "ridge" if data["kind"] == "ridge" else "logistic"
        return cls(
            kind=kind,
            strength=float(data["strength"]),
            numeric=np.asarray(data["numeric"], dtype=bool),
            low=np.asarray(data["low"], dtype=np.float64),
            high=np.asarray(data["high"], dtype=np.float64),
            median=np.asarray(data["median"], dtype=np.float64),
            indicator=np.asarray(data["indicator"], dtype=np.int64),
            mean=np.asarray(data["mean"], dtype=np.float64),
            scale=np.asarray(data["scale"], dtype=np.float64),
            coef=np.asarray(data["coef"], dtype=np.float64),
            intercept=float(data["intercept"]),
        )


def _expand(
    x: np.ndarray,
    numeric: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    median: np.ndarray,
    indicator: np.ndarray,
) -> np.ndarray:
    missing = np.isnan(x)
    out = np.where(missing, median, np.clip(x, low, high))
    out = np.where(numeric, out, np.nan_to_num(x))
    flags = missing[:, indicator].astype(np.float64)
    return np.hstack([out, flags])


def fit_linear(
    x: np.ndarray, y: np.ndarray, *, onehot: np.ndarray, kind: LinearKind, strength: float
) -> LinearModel:
    return fit_linear_path(x, y, onehot=onehot, kind=kind, grid=(strength,))[0]


def fit_linear_path(
    x: np.ndarray,
    y: np.ndarray,
    *,
    onehot: np.ndarray,
    kind: LinearKind,
    grid: Sequence[float],
) -> list[LinearModel]:
    """One model per regularisation strength in `grid`, sharing one transform. Logistic fits go
    from the strongest to the weakest penalty, each warm-started from the previous solution,
    which is what keeps a grid search over hundreds of one-hot columns fast."""
    numeric = ~onehot
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: handled below
        low, high = np.nanpercentile(x, CLIP_PERCENTILES, axis=0)
        median = np.nanmedian(x, axis=0)
    low = np.where(np.isfinite(low), low, 0.0)
    high = np.where(np.isfinite(high), high, 0.0)
    median = np.where(np.isfinite(median), np.clip(median, low, high), 0.0)
    indicator = np.flatnonzero(numeric & np.isnan(x).any(axis=0))
    expanded = _expand(x, numeric, low, high, median, indicator)
    mean = expanded.mean(axis=0)
    scale = expanded.std(axis=0)
    # Constant columns carry no information; scale 1 keeps them at exactly 0 after centring.
    scale = np.where(scale > 1e-12, scale, 1.0)
    z = (expanded - mean) / scale
    solutions = _solve(z, y, kind, grid)
    return [
        LinearModel(
            kind=kind,
            strength=strength,
            numeric=numeric,
            low=low,
            high=high,
            median=median,
            indicator=indicator,
            mean=mean,
            scale=scale,
            coef=coef,
            intercept=intercept,
        )
        for strength, (coef, intercept) in zip(grid, solutions, strict=True)
    ]


def _solve(
    z: np.ndarray, y: np.ndarray, kind: LinearKind, grid: Sequence[float]
) -> list[tuple[np.ndarray, float]]:
    if kind == "ridge":
        out = []
        for alpha in grid:
            ridge = Ridge(alpha=alpha).fit(z, y)
            out.append(
                (
                    np.asarray(ridge.coef_, dtype=np.float64).ravel(),
                    float(np.ravel(ridge.intercept_)[0]),
                )
            )
        return out
    if len(np.unique(y)) < 2:
        # A contiguous time block can hold one class only; the best linear answer is its rate.
        rate = (float(np.sum(y)) + 0.5) / (len(y) + 1.0)
        constant = (np.zeros(z.shape[1]), float(np.log(rate / (1 - rate))))
        return [constant for _ in grid]
    solutions: dict[float, tuple[np.ndarray, float]] = {}
    model = LogisticRegression(max_iter=5000, tol=1e-6, warm_start=True)
    for strength in sorted(grid):
        model.set_params(C=strength)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(z, y)
        solutions[strength] = (
            np.asarray(model.coef_[0], dtype=np.float64).copy(),
            float(model.intercept_[0]),
        )
    return [solutions[strength] for strength in grid]
