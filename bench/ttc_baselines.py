"""Baselines and scoring shared by the time-to-event benchmarks (ttc_flchain.py,
ttc_simulator.py): a Cox model and Kaplan-Meier, each giving every test row a probability-
integral transform u = F_i(T_i), and the coverage of an interval read from u.

  cox             Cox proportional hazards (Breslow ties, tiny ridge for stability) on median-
                  imputed, standardised, one-hot columns, fitted here with scipy; Breslow
                  baseline, so each row has a full predicted survival curve
  kaplan-meier    one curve for everyone: the no-covariate baseline
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize

from propensity.modeling.intervals import censored_coverage, kaplan_meier


def standardise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median imputation and scaling from the training rows; constant columns dropped."""
    median = np.nanmedian(train, axis=0)
    median = np.where(np.isnan(median), 0.0, median)
    train = np.where(np.isnan(train), median, train)
    test = np.where(np.isnan(test), median, test)
    mean, std = train.mean(axis=0), train.std(axis=0)
    varies = std > 0
    return (
        (train[:, varies] - mean[varies]) / std[varies],
        (test[:, varies] - mean[varies]) / std[varies],
    )


def fit_cox(x: np.ndarray, d: np.ndarray, e: np.ndarray, ridge: float = 1e-4) -> np.ndarray:
    order = np.argsort(-d, kind="stable")  # longest first: risk sets are cumulative sums
    x, d, e = x[order], d[order], e[order].astype(float)
    # Breslow ties: the risk set of a row is every row with a duration >= its own, i.e. the
    # prefix up to the last row sharing its duration.
    risk_end = np.searchsorted(-d, -d, side="right") - 1

    def negative(beta: np.ndarray) -> tuple[float, np.ndarray]:
        eta = x @ beta
        w = np.exp(eta - eta.max())
        cum_w = np.cumsum(w)
        cum_wx = np.cumsum(w[:, None] * x, axis=0)
        log_risk = np.log(cum_w[risk_end]) + eta.max()
        value = -np.sum(e * (eta - log_risk)) + ridge * beta @ beta
        grad = -(e[:, None] * (x - cum_wx[risk_end] / cum_w[risk_end][:, None])).sum(axis=0)
        return float(value), grad + 2 * ridge * beta

    result = minimize(negative, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B")
    return np.asarray(result.x)


def breslow(lp: np.ndarray, d: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Event times and the cumulative baseline hazard just after each."""
    times = np.unique(d[e])
    risk = np.exp(lp)
    order = np.argsort(d)
    sorted_d, sorted_risk = d[order], risk[order]
    at_risk = np.cumsum(sorted_risk[::-1])[::-1]
    start = np.searchsorted(sorted_d, times, side="left")
    deaths = np.array([np.sum(e[d == t]) for t in times], dtype=float)
    return times, np.cumsum(deaths / at_risk[start])


def cox_u(
    x_train: np.ndarray, d_train: np.ndarray, e_train: np.ndarray, x_test: np.ndarray
) -> tuple[np.ndarray, Any]:
    """(linear predictor of the test rows, u(durations) for them)."""
    beta = fit_cox(x_train, d_train, e_train)
    times, hazard = breslow(x_train @ beta, d_train, e_train)
    lp = x_test @ beta

    def u(durations: np.ndarray) -> np.ndarray:
        index = np.searchsorted(times, durations, side="right") - 1
        h0 = np.where(index < 0, 0.0, hazard[np.maximum(index, 0)])
        return np.asarray(1.0 - np.exp(-h0 * np.exp(lp)))

    return lp, u


def km_u(d_train: np.ndarray, e_train: np.ndarray, d_test: np.ndarray) -> np.ndarray:
    grid, survival = kaplan_meier(d_train, e_train)
    index = np.searchsorted(grid, d_test, side="right") - 1
    s = np.where(index < 0, 1.0, survival[np.maximum(index, 0)])
    return np.asarray(1.0 - s)


def coverage(
    u: np.ndarray, e: np.ndarray, low: float, high: float, weights: np.ndarray | None = None
) -> dict[str, Any]:
    grid, _ = kaplan_meier(u, e, weights)
    inside = (u >= low) & (u <= high)
    return {
        "coverage": censored_coverage(u, e, low, high, weights),
        "lower_bound": bool(len(grid) == 0 or grid.max() < high),
        "coverage_events_only": float(inside[e].mean()),
    }
