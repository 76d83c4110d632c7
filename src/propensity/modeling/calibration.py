"""Turning margins into probabilities that mean what they say, and the decision threshold.

Rule (documented in the package docstring): isotonic regression when the calibration rows hold at
least ISOTONIC_MIN_ROWS rows and ISOTONIC_MIN_MINORITY of the rarer class, otherwise Platt's
sigmoid. Isotonic is free-form and needs many examples per step to be stable; the sigmoid has two
parameters and cannot overfit a small set, but it cannot fix a miscalibration that is not
sigmoid-shaped.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

ISOTONIC_MIN_ROWS = 1000
ISOTONIC_MIN_MINORITY = 100

CalibrationMethod = Literal["isotonic", "sigmoid"]


def calibration_method_for(*, n_rows: int, n_minority: int) -> CalibrationMethod:
    if n_rows >= ISOTONIC_MIN_ROWS and n_minority >= ISOTONIC_MIN_MINORITY:
        return "isotonic"
    return "sigmoid"


@dataclass(frozen=True, kw_only=True)
class Calibrator:
    """Monotone map from margin (log-odds) to probability."""

    method: CalibrationMethod
    slope: float = 1.0  # sigmoid: p = 1 / (1 + exp(-(slope * margin + offset)))
    offset: float = 0.0
    knots_x: tuple[float, ...] = ()  # isotonic: piecewise-linear through these points
    knots_y: tuple[float, ...] = ()
    n_rows: int = 0

    def __call__(self, margin: np.ndarray) -> np.ndarray:
        margin = np.asarray(margin, dtype=np.float64)
        if self.method == "sigmoid":
            return np.asarray(1.0 / (1.0 + np.exp(-(self.slope * margin + self.offset))))
        return np.asarray(np.interp(margin, self.knots_x, self.knots_y))

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "slope": self.slope,
            "offset": self.offset,
            "knots_x": list(self.knots_x),
            "knots_y": list(self.knots_y),
            "n_rows": self.n_rows,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        method: CalibrationMethod = "isotonic" if data["method"] == "isotonic" else "sigmoid"
        return cls(
            method=method,
            slope=float(data["slope"]),
            offset=float(data["offset"]),
            knots_x=tuple(float(v) for v in data["knots_x"]),
            knots_y=tuple(float(v) for v in data["knots_y"]),
            n_rows=int(data["n_rows"]),
        )


def fit_calibrator(margin: np.ndarray, y: np.ndarray, method: CalibrationMethod) -> Calibrator:
    margin = np.asarray(margin, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if method == "sigmoid":
        platt = LogisticRegression(C=1e6, max_iter=1000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            platt.fit(margin.reshape(-1, 1), y)
        return Calibrator(
            method="sigmoid",
            slope=float(platt.coef_[0, 0]),
            offset=float(platt.intercept_[0]),
            n_rows=len(y),
        )
    isotonic = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    isotonic.fit(margin, y)
    fitted = isotonic.predict(margin)
    # A step with no positives (or no negatives) would say "0%" or "100%": nothing a few hundred
    # customers prove. Each step gets one pseudo-observation at the base rate, so an empty step
    # of n rows reads base_rate / (n + 1) instead of 0.
    base_rate = float(y.mean())
    values, counts = np.unique(fitted, return_counts=True)
    shrunk = (values * counts + base_rate) / (counts + 1.0)
    knots_y = np.interp(isotonic.y_thresholds_, values, shrunk)
    knots_y = np.maximum.accumulate(knots_y)
    return Calibrator(
        method="isotonic",
        knots_x=tuple(float(v) for v in isotonic.X_thresholds_),
        knots_y=tuple(float(v) for v in knots_y),
        n_rows=len(y),
    )


def best_f1_threshold(probability: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The probability cut that maximises F1 (predict positive when p >= threshold), and that F1.

    F1 rather than accuracy because at 5% positives the accuracy-optimal rule flags nobody; F1
    rather than Youden's J because J ignores precision and floods a sales or success team with
    false alarms when positives are rare. Ties go to the higher threshold (fewer alerts)."""
    probability = np.asarray(probability, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    positives = float(y.sum())
    if positives == 0:
        return 1.0, 0.0
    order = np.argsort(-probability, kind="stable")
    sorted_p = probability[order]
    true_pos = np.cumsum(y[order])
    flagged = np.arange(1, len(y) + 1, dtype=np.float64)
    # Only cut between distinct probabilities: rows with equal p are flagged together.
    last_of_value = np.r_[sorted_p[1:] != sorted_p[:-1], True]
    f1 = 2.0 * true_pos / (flagged + positives)
    f1 = np.where(last_of_value, f1, -1.0)
    best = float(f1.max())
    candidates = np.flatnonzero(f1 >= best - 1e-12)
    choice = int(candidates[0])  # highest probability among the ties
    threshold = float(np.clip(sorted_p[choice], 1e-6, 1.0 - 1e-6))
    return threshold, best


def recalibrated_log_loss(margin: np.ndarray, y: np.ndarray, iterations: int = 25) -> float:
    """Log-loss of the margin after the best affine recalibration (Platt's slope and offset,
    fitted by Newton's method on the same rows).

    Selection scores candidates with it because what is served is the calibrated probability:
    raw log-loss would also charge a candidate for a scale the calibrator is about to fix (a
    blend of two under-confident tree models cannot scale up its margin, weights adding to 1),
    and so prefer blends for their scale rather than their ranking."""
    margin = np.asarray(margin, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    design = np.column_stack([margin, np.ones_like(margin)])
    beta = np.array([1.0, 0.0])
    for _ in range(iterations):
        p = np.exp(-np.logaddexp(0.0, -(design @ beta)))  # the sigmoid, without overflow
        weight = np.maximum(p * (1 - p), 1e-12)
        hessian = design.T @ (design * weight[:, None]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hessian, design.T @ (y - p))
        beta += step
        if np.abs(step).max() < 1e-10:
            break
    z = design @ beta
    # log(1 + e^z) - y z, computed stably
    return float(np.mean(np.logaddexp(0.0, z) - y * z))
