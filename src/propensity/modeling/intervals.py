"""Censoring-aware checking and calibration of time-to-event intervals.

A model with a predicted distribution F_i per row is calibrated when u_i = F_i(T_i) is uniform.
For a censored row only u_i > F_i(c_i) is known, which is exactly right-censoring of u: the
Kaplan-Meier estimate of the distribution of u over rows is therefore unbiased under independent
censoring (D-calibration, Haider et al. 2020). From it:

- the coverage of the [q_low, q_high] interval is P(q_low <= u <= q_high), with censored rows
  counted for what they are known to say instead of being dropped (dropping them keeps the
  events that happened early and calls intervals too long, or too late);
- the levels that give 10% below and 10% above on held-out rows are the Kaplan-Meier quantiles
  of u at 0.1 and 0.9: serving the model's quantiles at those levels is a split-conformal
  recalibration of the interval on out-of-fold predictions.

`weights` make the estimate one over a sub-population known only in probability. A mixture
(cure) model describes the time to the event of the rows that will have it (modeling/cure.py);
a row that is still waiting belongs to them with its posterior probability, a row that can no
longer have the event (a lead closed lost) with 0, a row that had it with 1. Kaplan-Meier with
those weights counts each row as its expected share of an event-to-be. Unit weights give the
plain estimate, bit for bit.
"""

from __future__ import annotations

import numpy as np


def kaplan_meier(
    values: np.ndarray, events: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(distinct event values, S just after each) for right-censored `values`."""
    values = np.asarray(values, dtype=np.float64)
    events = np.asarray(events, dtype=bool)
    order = np.argsort(values, kind="stable")
    values, events = values[order], events[order]
    distinct, first = np.unique(values, return_index=True)
    if weights is None:
        at_risk = (len(values) - first).astype(np.float64)
        counted = events.astype(np.float64)
    else:
        w = np.asarray(weights, dtype=np.float64)[order]
        at_risk = np.cumsum(w[::-1])[::-1][first] if len(values) else np.array([])
        counted = np.where(events, w, 0.0)
    deaths = np.add.reduceat(counted, first) if len(values) else np.array([])
    keep = deaths > 0
    survival = np.cumprod(1.0 - deaths[keep] / at_risk[keep])
    return distinct[keep], survival


def survival_at(grid: np.ndarray, survival: np.ndarray, x: float) -> float:
    """S(x) = P(value > x) from a Kaplan-Meier curve."""
    index = int(np.searchsorted(grid, x, side="right")) - 1
    return 1.0 if index < 0 else float(survival[index])


def censored_coverage(
    u: np.ndarray,
    events: np.ndarray,
    low: float,
    high: float,
    weights: np.ndarray | None = None,
) -> float | None:
    """P(low <= u <= high) by Kaplan-Meier on the probability-integral-transform values."""
    if not np.asarray(events, dtype=bool).any():
        return None
    grid, survival = kaplan_meier(u, events, weights)
    below = 1.0 - survival_at(grid, survival, np.nextafter(low, -np.inf))
    above = survival_at(grid, survival, high)
    return float(max(0.0, 1.0 - below - above))


def conformal_levels(
    u: np.ndarray,
    events: np.ndarray,
    targets: tuple[float, float],
    weights: np.ndarray | None = None,
) -> tuple[float, float]:
    """Model quantile levels whose Kaplan-Meier share below is `targets` (e.g. 0.1 and 0.9).

    A target the curve does not reach (heavy censoring leaves the upper tail unobserved) keeps
    its nominal level."""
    grid, survival = kaplan_meier(u, events, weights)
    levels = []
    for target in targets:
        reached = np.flatnonzero(1.0 - survival >= target)
        if len(reached) == 0:
            levels.append(target)
            continue
        levels.append(float(np.clip(grid[reached[0]], 1e-4, 1 - 1e-4)))
    low, high = levels
    if not low < high:
        return targets
    return low, high
