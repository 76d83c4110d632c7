"""The log-normal layer over an AFT margin and how it is checked: the residual fit that turns
the margin into a calibrated median and spread, the probability-integral transform the interval
levels are recalibrated on (intervals.py), and the held-out metrics.

Every function takes optional per-row `weights`: a mixture (cure) model fits and judges its
time distribution on the rows that will have the event, known only in probability for rows
still waiting (cure.py). Without weights each function is exactly the plain one."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.stats import norm

from propensity.modeling.intervals import censored_coverage
from propensity.modeling.metrics import (
    Metrics,
    concordance_index,
    expected_calibration_error,
    roc_auc,
)

INTERVAL = (0.1, 0.9)


def fit_residuals(
    residual: np.ndarray, observed: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, float]:
    """Censored-normal maximum likelihood for (delta, sigma) of log-time residuals."""
    event, censored = residual[observed], residual[~observed]
    if weights is None:
        w_event: np.ndarray | float = 1.0
        w_censored: np.ndarray | float = 1.0
    else:
        w_event, w_censored = weights[observed], weights[~observed]

    def negative_log_likelihood(theta: np.ndarray) -> float:
        shift, log_scale = float(theta[0]), float(theta[1])
        scale = np.exp(log_scale)
        value = -np.sum(w_event * (norm.logpdf((event - shift) / scale) - log_scale))
        value -= np.sum(w_censored * norm.logsf((censored - shift) / scale))
        return float(value)

    start = np.array([float(np.mean(event)), float(np.log(max(np.std(event), 1e-3)))])
    result = minimize(
        negative_log_likelihood,
        start,
        method="Nelder-Mead",
        options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 2000},
    )
    return float(result.x[0]), float(np.exp(result.x[1]))


def probability_transform(location: np.ndarray, scale: float, durations: np.ndarray) -> np.ndarray:
    """u = F(duration) under the model (a lower bound of the true u for a censored row)."""
    return np.asarray(norm.cdf((np.log(durations) - location) / scale))


def survival_metrics(
    location: np.ndarray,
    scale: float,
    durations: np.ndarray,
    events: np.ndarray,
    *,
    levels: tuple[float, float] = INTERVAL,
    incidence: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    lost: np.ndarray | None = None,
    horizon_days: float | None = None,
) -> Metrics:
    """C-index over all rows (censoring-aware); p10-p90 coverage both censoring-aware
    (Kaplan-Meier, intervals.py: the number to read) and on observed events only (which leans
    toward short durations when many rows are censored); median absolute error on events.

    For a mixture model `incidence` is each row's P(the event ever happens), `weights` the
    posterior share of each row among those that will have it (cure.closer_weights) and
    `lost` the rows known never to have it: the coverage is then that of the time given the
    event, over the rows that will have it; rows are ranked for the C-index by P(event within
    `horizon_days`), the probability served; and that probability is checked against what
    happened on the rows whose outcome by the horizon is known."""
    median = np.exp(location)
    low = np.exp(location + scale * float(norm.ppf(levels[0])))
    high = np.exp(location + scale * float(norm.ppf(levels[1])))
    d, e = durations[events], events
    u = probability_transform(location, scale, durations)
    ranking = median
    if incidence is not None and horizon_days is not None:
        ranking = -incidence * probability_transform(location, scale, np.array(horizon_days))
    metrics: Metrics = {
        "interval_coverage_censoring_aware": censored_coverage(u, events, *levels, weights),
        "rows": len(durations),
        "events": int(e.sum()),
        "censored_rate": float(1 - e.mean()),
        "c_index": concordance_index(durations, events, ranking),
        "interval_coverage": float(np.mean((d >= low[e]) & (d <= high[e]))) if e.any() else None,
        "interval": "p10-p90",
        "median_absolute_error_days": float(np.median(np.abs(median[e] - d))) if e.any() else None,
    }
    if incidence is not None:
        metrics["interval_of"] = "time to the event, for the rows that will have it"
        metrics["event_probability_mean"] = float(np.mean(incidence))
        if lost is not None:
            metrics["lost_rate"] = float(np.mean(lost))
    if incidence is not None and horizon_days is not None:
        metrics.update(
            within_horizon_metrics(
                incidence * probability_transform(location, scale, np.array(horizon_days)),
                durations,
                events,
                lost,
                horizon_days,
            )
        )
    return metrics


def within_horizon_metrics(
    probability: np.ndarray,
    durations: np.ndarray,
    events: np.ndarray,
    lost: np.ndarray | None,
    horizon_days: float,
) -> Metrics:
    """P(event within the horizon) against the outcome, on rows where it is known: the event
    happened by then, or the row was followed that long, or it was lost (it never happens)."""
    known = events | (durations >= horizon_days)
    if lost is not None:
        known |= lost
    y = (events & (durations <= horizon_days)).astype(np.float64)[known]
    p = probability[known]
    if not len(y):
        return {}
    return {
        "within_horizon_days": float(horizon_days),
        "within_horizon_rows": len(y),
        "within_horizon_rate": float(y.mean()),
        "within_horizon_predicted": float(p.mean()),
        "within_horizon_brier": float(np.mean((p - y) ** 2)),
        "within_horizon_roc_auc": roc_auc(p, y),
        "within_horizon_ece": expected_calibration_error(p, y),
    }
