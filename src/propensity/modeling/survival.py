"""Time to event (time to close): XGBoost `survival:aft` with right-censoring, giving a median
and a p10-p90 interval in days.

Open leads are right-censored: their duration so far is a lower bound (label interval
[d, +inf)). The AFT model predicts mu(x), the location of log T. Its own distribution scale is a
training hyperparameter, not an estimate, so the interval is calibrated afterwards: on the
out-of-fold mu of the development rows, residuals r = log d - mu are fitted as
Normal(delta, sigma) by censored maximum likelihood (censored residuals are lower bounds). Then
    median = exp(mu + delta),  p_q = exp(mu + delta + sigma * z_q)  (z_0.1 = -z_0.9 = -1.2816)
and P(event within t days) = Phi((log t - mu - delta) / sigma).

The normal shape is an assumption; the served interval does not rest on it. Its quantile levels
are recalibrated on the same out-of-fold predictions so that, by a Kaplan-Meier estimate that
counts censored rows for what they say (intervals.py), 10% of events fall below it and 10%
above: p10 and p90 are the model's quantiles at `levels`, not at 0.1 and 0.9.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd
import xgboost as xgb
from scipy.optimize import minimize
from scipy.stats import norm

from propensity.errors import InvalidInput
from propensity.modeling import minimums
from propensity.modeling.confidence import quality_from_score
from propensity.modeling.explain import Explanation
from propensity.modeling.importance import describe_training_data
from propensity.modeling.intervals import censored_coverage, conformal_levels
from propensity.modeling.metrics import Metrics, concordance_index
from propensity.modeling.model import Inputs, TrainedModel
from propensity.modeling.specs import FeatureSpec
from propensity.modeling.splits import DEFAULT_INNER_FOLDS, DEFAULT_TEST_FRACTION
from propensity.modeling.threads import single_threaded_blas
from propensity.modeling.training import (
    Progress,
    ProgressCallback,
    develop,
    fit_and_select,
    prepare,
    training_summary,
)
from propensity.modeling.trees import tree_hyperparameters

# Same-day events still need a positive duration on a log scale: count them as half a day.
MIN_DURATION_DAYS = 0.5
INTERVAL = (0.1, 0.9)


@dataclass(kw_only=True, eq=False)
class SurvivalModel(TrainedModel):
    KIND = "survival"

    shift: float  # delta: added to mu so exp(mu + delta) is the calibrated median
    scale: float  # sigma of log-time residuals around the median
    levels: tuple[float, float] = INTERVAL  # model quantile levels served as p10 and p90

    def predict_median(self, frame: Inputs) -> np.ndarray:
        """Predicted median days until the event."""
        return np.exp(self.margin(frame) + self.shift)

    def predict_quantile(self, frame: Inputs, q: float) -> np.ndarray:
        if not 0.0 < q < 1.0:
            raise InvalidInput("A quantile must be between 0 and 1.")
        return np.exp(self.margin(frame) + self.shift + self.scale * float(norm.ppf(q)))

    def predict_interval(self, frame: Inputs) -> tuple[np.ndarray, np.ndarray]:
        """(p10, p90) days: 80% of events are expected to happen inside the interval."""
        location = self.margin(frame) + self.shift
        low, high = (float(norm.ppf(q)) for q in self.levels)
        return np.exp(location + self.scale * low), np.exp(location + self.scale * high)

    def probability_within(self, frame: Inputs, days: float) -> np.ndarray:
        """P(event within `days`) per row."""
        if days <= 0:
            raise InvalidInput("`days` must be positive.")
        location = self.margin(frame) + self.shift
        return np.asarray(norm.cdf((np.log(days) - location) / self.scale))

    def explain(self, frame: Inputs) -> Explanation:
        """Contributions to log(median days); the calibration shift delta is part of the bias."""
        contributions, bias, margin = self._contributions(frame)
        return Explanation(
            features=self.features,
            contributions=contributions,
            bias=bias + self.shift,
            raw=margin + self.shift,
            prediction=np.exp(margin + self.shift),
            space="log_days",
        )

    def _task_manifest(self) -> dict[str, Any]:
        task: dict[str, Any] = {"shift": self.shift, "scale": self.scale}
        if self.levels != INTERVAL:  # artifacts from before the recalibration keep their bytes
            task["levels"] = list(self.levels)
        return task

    @classmethod
    def _from_manifest(cls, common: dict[str, Any], task: dict[str, Any]) -> Self:
        low, high = task.get("levels", INTERVAL)
        return cls(
            **common,
            shift=float(task["shift"]),
            scale=float(task["scale"]),
            levels=(float(low), float(high)),
        )


def fit_residuals(residual: np.ndarray, observed: np.ndarray) -> tuple[float, float]:
    """Censored-normal maximum likelihood for (delta, sigma) of log-time residuals."""
    event, censored = residual[observed], residual[~observed]

    def negative_log_likelihood(theta: np.ndarray) -> float:
        shift, log_scale = float(theta[0]), float(theta[1])
        scale = np.exp(log_scale)
        value = -np.sum(norm.logpdf((event - shift) / scale) - log_scale)
        value -= np.sum(norm.logsf((censored - shift) / scale))
        return float(value)

    start = np.array([float(np.mean(event)), float(np.log(max(np.std(event), 1e-3)))])
    result = minimize(
        negative_log_likelihood,
        start,
        method="Nelder-Mead",
        options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 2000},
    )
    return float(result.x[0]), float(np.exp(result.x[1]))


def _survival_labels(
    durations_days: np.ndarray, observed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    durations = np.asarray(durations_days, dtype=np.float64)
    events = np.asarray(observed)
    if durations.shape != events.shape:
        raise InvalidInput("`durations_days` and `observed` must have the same length.")
    keep = ~np.isnan(durations)
    if np.any(durations[keep] < 0):
        raise InvalidInput("Durations must be zero or positive days.")
    return np.maximum(durations[keep], MIN_DURATION_DAYS), events[keep].astype(bool), keep


@single_threaded_blas
def train_survival(
    *,
    frame: pd.DataFrame,
    durations_days: np.ndarray,
    observed: np.ndarray,
    features: Sequence[FeatureSpec],
    times: pd.Series | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    inner_folds_count: int = DEFAULT_INNER_FOLDS,
    n_threads: int | None = None,
    tree_overrides: Mapping[str, Any] | None = None,
) -> SurvivalModel:
    """Time-to-event model. Rows with a NaN duration are left out; `observed` False = censored."""
    started = time.perf_counter()
    report = Progress(progress)
    report("preprocessing", 0.0)
    durations, events, keep = _survival_labels(durations_days, observed)
    minimums.check_survival(events)
    prepared = prepare(frame=frame, features=features, n_rows=len(keep), keep=keep, times=times)
    data = develop(
        prepared,
        features,
        strata=events.astype(np.float64),
        test_fraction=test_fraction,
        inner_folds_count=inner_folds_count,
        seed=seed,
        n_threads=n_threads,
        check=lambda split: minimums.check_development_events(
            events[split.development], split=split.method
        ),
    )
    dev, test = data.split.development, data.split.test
    d_dev, e_dev = durations[dev], events[dev]
    upper = np.where(e_dev, d_dev, np.inf)

    def make_matrix(rows: np.ndarray) -> xgb.DMatrix:
        matrix = xgb.DMatrix(data.x[rows], missing=np.nan, nthread=data.threads)
        matrix.set_float_info("label_lower_bound", d_dev[rows])
        matrix.set_float_info("label_upper_bound", upper[rows])
        return matrix

    fit = fit_and_select(
        x_dev=data.x,
        preprocessor=data.preprocessor,
        folds=data.folds,
        task="survival",
        make_matrix=make_matrix,
        linear=None,
        loss=lambda margin: 0.0,
        criterion="aft negative log-likelihood",
        family="xgboost",
        seed=seed,
        n_threads=data.threads,
        progress=report,
        tree_overrides=tree_overrides,
    )
    report("calibration", 0.82)
    shift, scale = fit_residuals(np.log(d_dev) - fit.oof_margin, e_dev)
    levels = conformal_levels(
        probability_transform(fit.oof_margin + shift, scale, d_dev), e_dev, INTERVAL
    )

    report("evaluation", 0.88)
    if len(test):
        metrics = survival_metrics(
            fit.engine.margin(data.test_x()) + shift,
            scale,
            durations[test],
            events[test],
            levels=levels,
        )
        metrics["evaluated_on"] = f"held-out test split ({data.split.method})"
    else:
        metrics = survival_metrics(fit.oof_margin + shift, scale, d_dev, e_dev, levels=levels)
        metrics["evaluated_on"] = "inner validation (no test split; the levels were fitted here)"

    report("statistics", 0.93)
    baseline = describe_training_data(fit.engine, data.frame, data.x, seed)
    selection = fit.selection.to_dict()
    selection["candidates"] = {"xgboost": fit.tree_score}
    selection["reason"] = (
        "Time to event uses XGBoost survival:aft (the one family here that handles censoring); "
        f"{fit.rounds} rounds chosen by inner-validation AFT negative log-likelihood."
    )
    selection["interval_calibration"] = {
        "shift": shift,
        "scale": scale,
        "fitted_on": "out-of-fold log-time residuals of the development rows (censored MLE)",
        "levels": list(levels),
        "levels_fitted_on": "Kaplan-Meier of out-of-fold probability-integral transforms",
    }
    summary = training_summary(
        prepared=prepared,
        split=data.split,
        started=started,
        extra={
            "features": len(features),
            "events": int(events.sum()),
            "censored": int((~events).sum()),
            "median_observed_days": float(np.median(durations[events])),
        },
    )
    model = SurvivalModel(
        engine=fit.engine,
        metrics=metrics,
        selection=selection,
        hyperparameters={
            "family": "xgboost",
            "xgboost": tree_hyperparameters(
                "survival", tree_overrides=tree_overrides, rounds=fit.rounds
            ),
            "interval": {
                "shift": shift,
                "scale": scale,
                "quantiles": list(INTERVAL),
                "levels": list(levels),
            },
            "seed": seed,
            "n_threads": data.threads,
        },
        feature_stats=baseline.feature_stats,
        importance=baseline.importance,
        training=summary,
        references=baseline.references,
        quality=quality_from_score(_number(metrics.get("c_index")), kind="auc"),
        shift=shift,
        scale=scale,
        levels=levels,
    )
    report("done", 1.0)
    return model


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
) -> Metrics:
    """C-index over all rows (censoring-aware); p10-p90 coverage both censoring-aware
    (Kaplan-Meier, intervals.py: the number to read) and on observed events only (which leans
    toward short durations when many rows are censored); median absolute error on events."""
    median = np.exp(location)
    low = np.exp(location + scale * float(norm.ppf(levels[0])))
    high = np.exp(location + scale * float(norm.ppf(levels[1])))
    d, e = durations[events], events
    u = probability_transform(location, scale, durations)
    return {
        "interval_coverage_censoring_aware": censored_coverage(u, events, *levels),
        "rows": len(durations),
        "events": int(e.sum()),
        "censored_rate": float(1 - e.mean()),
        "c_index": concordance_index(durations, events, median),
        "interval_coverage": float(np.mean((d >= low[e]) & (d <= high[e]))) if e.any() else None,
        "interval": "p10-p90",
        "median_absolute_error_days": float(np.median(np.abs(median[e] - d))) if e.any() else None,
    }


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
