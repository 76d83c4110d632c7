"""Numeric targets (health score 30 days ahead): XGBoost regression or ridge, or their blend,
chosen by inner-validation MAE, with an empirical p10-p90 interval from out-of-fold residuals."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self

import numpy as np
import pandas as pd

from propensity.errors import InvalidInput
from propensity.modeling import minimums
from propensity.modeling.confidence import quality_from_score
from propensity.modeling.explain import Explanation
from propensity.modeling.importance import describe_training_data
from propensity.modeling.linear import RIDGE_ALPHA_GRID
from propensity.modeling.metrics import regression_metrics
from propensity.modeling.model import Inputs, TrainedModel
from propensity.modeling.naive import regression_naive
from propensity.modeling.selection import Family
from propensity.modeling.specs import FeatureSpec
from propensity.modeling.splits import DEFAULT_INNER_FOLDS, DEFAULT_TEST_FRACTION
from propensity.modeling.threads import single_threaded_blas
from propensity.modeling.training import (
    LinearPlan,
    Progress,
    ProgressCallback,
    develop,
    fit_and_select,
    prepare,
    training_summary,
)
from propensity.modeling.trees import plain_matrix, tree_hyperparameters

RegressionFamily = Literal["auto", "xgboost", "ridge", "blend"]
INTERVAL = (0.1, 0.9)


@dataclass(kw_only=True, eq=False)
class RegressionModel(TrainedModel):
    KIND = "regression"

    residual_low: float  # p10 of out-of-fold residuals (target - prediction)
    residual_high: float  # p90
    target_mean: float  # of the development rows: the "predict the mean" baseline

    def predict(self, frame: Inputs) -> np.ndarray:
        return self.margin(frame)

    def predict_interval(self, frame: Inputs) -> tuple[np.ndarray, np.ndarray]:
        """(p10, p90): the prediction plus the 10th and 90th percentile of held-out residuals."""
        prediction = self.margin(frame)
        return prediction + self.residual_low, prediction + self.residual_high

    def explain(self, frame: Inputs) -> Explanation:
        contributions, bias, margin = self._contributions(frame)
        return Explanation(
            features=self.features,
            contributions=contributions,
            bias=bias,
            raw=margin,
            prediction=margin,
            space="target",
        )

    def _task_manifest(self) -> dict[str, Any]:
        return {
            "residual_low": self.residual_low,
            "residual_high": self.residual_high,
            "target_mean": self.target_mean,
        }

    @classmethod
    def _from_manifest(cls, common: dict[str, Any], task: dict[str, Any]) -> Self:
        return cls(
            **common,
            residual_low=float(task["residual_low"]),
            residual_high=float(task["residual_high"]),
            target_mean=float(task["target_mean"]),
        )


@single_threaded_blas
def train_regression(
    *,
    frame: pd.DataFrame,
    targets: np.ndarray,
    features: Sequence[FeatureSpec],
    times: pd.Series | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    family: RegressionFamily = "auto",
    test_fraction: float = DEFAULT_TEST_FRACTION,
    inner_folds_count: int = DEFAULT_INNER_FOLDS,
    n_threads: int | None = None,
    tree_overrides: Mapping[str, Any] | None = None,
    linear_strength: float | None = None,
    naive: Mapping[str, np.ndarray] | None = None,
) -> RegressionModel:
    """Regression model; rows whose target is NaN are left out. `tree_overrides` replace
    XGBoost's defaults and `linear_strength` fixes the ridge alpha (as in train_binary).
    `naive` holds forecasts that need no model, one value per input row (e.g. naive.py's
    health_trend_naive); the model's MAE skill over each is stored with its metrics."""
    started = time.perf_counter()
    report = Progress(progress)
    report("preprocessing", 0.0)
    values = np.asarray(targets, dtype=np.float64)
    if np.isinf(values).any():
        raise InvalidInput("Regression targets must be finite numbers (NaN for unlabelled rows).")
    keep = ~np.isnan(values)
    y_all = values[keep]
    minimums.check_regression(y_all)
    prepared = prepare(frame=frame, features=features, n_rows=len(keep), keep=keep, times=times)
    data = develop(
        prepared,
        features,
        strata=None,
        test_fraction=test_fraction,
        inner_folds_count=inner_folds_count,
        seed=seed,
        n_threads=n_threads,
    )
    y_dev = y_all[data.split.development]

    def make_matrix(rows: np.ndarray) -> Any:
        return plain_matrix(data.x[rows], data.threads, label=y_dev[rows])

    def mae(margin: np.ndarray) -> float:
        return float(np.mean(np.abs(margin - y_dev)))

    fit = fit_and_select(
        x_dev=data.x,
        preprocessor=data.preprocessor,
        folds=data.folds,
        task="regression",
        make_matrix=make_matrix,
        linear=LinearPlan(
            kind="ridge",
            grid=RIDGE_ALPHA_GRID if linear_strength is None else (linear_strength,),
            target=y_dev,
        ),
        loss=mae,
        criterion="MAE",
        family=_family(family),
        seed=seed,
        n_threads=data.threads,
        progress=report,
        tree_overrides=tree_overrides,
    )
    report("calibration", 0.82)
    residual = y_dev - fit.oof_margin
    low, high = (float(v) for v in np.quantile(residual, INTERVAL))
    target_mean = float(np.mean(y_dev))

    report("evaluation", 0.88)
    if len(data.split.test):
        predicted, truth = fit.engine.margin(data.test_x()), y_all[data.split.test]
        evaluated_on = f"held-out test split ({data.split.method})"
    else:
        predicted, truth = fit.oof_margin, y_dev
        evaluated_on = "inner validation (no test split)"
    metrics = regression_metrics(predicted, truth, train_mean=target_mean)
    metrics["interval_coverage"] = float(
        np.mean((truth >= predicted + low) & (truth <= predicted + high))
    )
    metrics["interval"] = "p10-p90"
    metrics["evaluated_on"] = evaluated_on
    if naive:
        rows = data.split.test if len(data.split.test) else data.split.development
        labelled = {name: np.asarray(v, dtype=np.float64)[keep][rows] for name, v in naive.items()}
        metrics.update(regression_naive(predicted, truth, labelled, fallback=target_mean))

    report("statistics", 0.93)
    baseline = describe_training_data(fit.engine, data.frame, data.x, seed)
    hyperparameters: dict[str, Any] = {
        "family": fit.selection.family,
        "tree_weight": fit.selection.tree_weight,
        "interval_residuals": {"p10": low, "p90": high},
        "seed": seed,
        "n_threads": data.threads,
    }
    if fit.rounds is not None:
        hyperparameters["xgboost"] = tree_hyperparameters(
            "regression", tree_overrides=tree_overrides, rounds=fit.rounds
        )
    if fit.strength is not None:
        hyperparameters["ridge"] = {"alpha": fit.strength}
    summary = training_summary(
        prepared=prepared,
        split=data.split,
        started=started,
        extra={
            "features": len(features),
            "target_mean": float(np.mean(y_all)),
            "target_std": float(np.std(y_all)),
        },
    )
    skill = metrics.get("mae_skill")
    model = RegressionModel(
        engine=fit.engine,
        metrics=metrics,
        selection=fit.selection.to_dict(),
        hyperparameters=hyperparameters,
        feature_stats=baseline.feature_stats,
        importance=baseline.importance,
        training=summary,
        references=baseline.references,
        quality=quality_from_score(
            float(skill) if isinstance(skill, int | float) else None, kind="skill"
        ),
        residual_low=low,
        residual_high=high,
        target_mean=target_mean,
    )
    report("done", 1.0)
    return model


def _family(family: RegressionFamily) -> Family:
    if family not in ("auto", "xgboost", "ridge", "blend"):
        raise InvalidInput(f"Unknown model family {family!r}.")
    return "linear" if family == "ridge" else family
