"""Binary outcomes (churn, conversion): calibrated probability, threshold, exact explanations."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self

import numpy as np
import pandas as pd

from propensity.errors import InvalidInput
from propensity.modeling import minimums
from propensity.modeling.calibration import (
    Calibrator,
    best_f1_threshold,
    calibration_method_for,
    fit_calibrator,
    recalibrated_log_loss,
)
from propensity.modeling.candidates import CandidateSearch, catboost_is_candidate
from propensity.modeling.catboost_trees import PARAMS as CATBOOST_PARAMS
from propensity.modeling.catboost_trees import entity_l2_leaf_reg
from propensity.modeling.confidence import quality_from_score
from propensity.modeling.curves import binary_curves
from propensity.modeling.explain import Explanation
from propensity.modeling.importance import describe_training_data
from propensity.modeling.linear import LOGISTIC_C_GRID
from propensity.modeling.metrics import binary_metrics, roc_auc
from propensity.modeling.model import Inputs, TrainedModel
from propensity.modeling.naive import binary_naive
from propensity.modeling.preprocessing import Preprocessor
from propensity.modeling.selection import Family
from propensity.modeling.specs import FeatureSpec
from propensity.modeling.splits import DEFAULT_INNER_FOLDS, DEFAULT_TEST_FRACTION, inner_folds
from propensity.modeling.threads import single_threaded_blas, threads_for
from propensity.modeling.training import (
    LinearPlan,
    Progress,
    ProgressCallback,
    fit_and_select,
    prepare,
    split_rows,
    training_summary,
)
from propensity.modeling.trees import (
    BASE_PARAMS,
    OBJECTIVES,
    entity_min_child_weight,
    plain_matrix,
    snapshot_repetition,
)

BinaryFamily = Literal["auto", "xgboost", "catboost", "logistic", "blend"]


@dataclass(kw_only=True, eq=False)
class BinaryModel(TrainedModel):
    KIND = "binary"

    calibrator: Calibrator
    threshold: float  # flag a row when its calibrated probability is >= threshold (max F1)

    def predict_proba(self, frame: Inputs) -> np.ndarray:
        """Calibrated probability of the positive class per row."""
        return self.calibrator(self.margin(frame))

    def predict(self, frame: Inputs) -> np.ndarray:
        return self.predict_proba(frame) >= self.threshold

    def explain(self, frame: Inputs) -> Explanation:
        contributions, bias, margin = self._contributions(frame)
        return Explanation(
            features=self.features,
            contributions=contributions,
            bias=bias,
            raw=margin,
            prediction=self.calibrator(margin),
            space="log_odds",
        )

    def _task_manifest(self) -> dict[str, Any]:
        return {"calibrator": self.calibrator.to_dict(), "threshold": self.threshold}

    @classmethod
    def _from_manifest(cls, common: dict[str, Any], task: dict[str, Any]) -> Self:
        return cls(
            **common,
            calibrator=Calibrator.from_dict(task["calibrator"]),
            threshold=float(task["threshold"]),
        )


def binary_labels(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(0/1 float labels of the labelled rows, mask of labelled rows). NaN/None means unlabelled."""
    raw = pd.Series(np.asarray(labels, dtype=object))
    keep = raw.notna().to_numpy()
    problem = InvalidInput("Binary labels must be 0/1 or True/False (NaN for unlabelled rows).")
    try:
        values = np.asarray([float(v) for v in raw[keep].tolist()], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise problem from exc
    if not np.isin(values, (0.0, 1.0)).all():
        raise problem
    return values, keep


# The entity-scaled leaf floor never asks a leaf for more than this share of the development
# rows' total hessian weight (n p (1 - p) at the base rate): a depth-2 tree's four leaves fit.
MAX_LEAF_SHARE = 0.1


@single_threaded_blas
def train_binary(
    *,
    frame: pd.DataFrame,
    labels: np.ndarray,
    features: Sequence[FeatureSpec],
    times: pd.Series | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    family: BinaryFamily = "auto",
    test_fraction: float = DEFAULT_TEST_FRACTION,
    inner_folds_count: int = DEFAULT_INNER_FOLDS,
    n_threads: int | None = None,
    tree_overrides: Mapping[str, Any] | None = None,
    linear_strength: float | None = None,
    search: CandidateSearch = "auto",
) -> BinaryModel:
    """Train, select, calibrate and evaluate a binary model (see the package docstring).

    `test_fraction=0` skips the internal held-out split (for callers that evaluate on their own
    split, like the benchmark's outer cross-validation); metrics then come from the inner
    validation and say so in `metrics["evaluated_on"]`. `tree_overrides` replace XGBoost's
    defaults (trees.BASE_PARAMS) and `linear_strength` fixes the logistic C instead of searching
    LOGISTIC_C_GRID; without them training is exactly as before. `search` narrows or widens
    the candidate families (candidates.py: CatBoost joins when the data is small enough)."""
    started = time.perf_counter()
    report = Progress(progress)
    report("preprocessing", 0.0)
    y_all, keep = binary_labels(labels)
    minimums.check_binary(y_all)
    prepared = prepare(frame=frame, features=features, n_rows=len(keep), keep=keep, times=times)
    split = split_rows(prepared, strata=y_all, test_fraction=test_fraction, seed=seed)
    dev, test = split.development, split.test
    frame_dev = prepared.frame.iloc[dev].reset_index(drop=True)
    y_dev = y_all[dev]
    minimums.check_development(y_dev, split=split.method)
    preprocessor = Preprocessor.fit(frame_dev, features)
    x_dev = preprocessor.transform(frame_dev)
    threads = threads_for(n_threads)
    folds = inner_folds(
        n_rows=len(dev),
        strata=y_dev,
        times_ns=None if prepared.times_ns is None else prepared.times_ns[dev],
        n_folds=inner_folds_count,
        seed=seed,
    )
    report("preprocessing", 0.08)

    repetition = snapshot_repetition(None if prepared.times_ns is None else prepared.times_ns[dev])
    if repetition > 1 and "min_child_weight" not in (tree_overrides or {}):
        # Bounded by the data: on a small tenant the scaled floor would exceed what any
        # split can put in a leaf and every tree would be a single leaf (the base rate).
        base_rate = float(np.mean(y_dev))
        total_weight = len(y_dev) * base_rate * (1.0 - base_rate)
        floor = min(entity_min_child_weight(repetition), MAX_LEAF_SHARE * total_weight)
        tree_overrides = {
            **(tree_overrides or {}),
            "min_child_weight": round(max(floor, entity_min_child_weight(1.0)), 1),
        }
    catboost_overrides = (
        {"l2_leaf_reg": round(entity_l2_leaf_reg(repetition), 1)} if repetition > 1 else {}
    )
    with_catboost = catboost_is_candidate(rows=len(dev), columns=x_dev.shape[1], search=search)
    if family == "catboost" and not with_catboost:
        raise InvalidInput("CatBoost is not available for this training run.")

    def make_matrix(rows: np.ndarray) -> Any:
        return plain_matrix(x_dev[rows], threads, label=y_dev[rows])

    def margin_loss(margin: np.ndarray) -> float:
        return recalibrated_log_loss(margin, y_dev)

    fit = fit_and_select(
        x_dev=x_dev,
        preprocessor=preprocessor,
        folds=folds,
        task="binary",
        make_matrix=make_matrix,
        linear=LinearPlan(
            kind="logistic",
            grid=LOGISTIC_C_GRID if linear_strength is None else (linear_strength,),
            target=y_dev,
        ),
        loss=margin_loss,
        criterion="log-loss",
        family=_family(family),
        seed=seed,
        n_threads=threads,
        progress=report,
        tree_overrides=tree_overrides,
        catboost_target=y_dev if with_catboost else None,
        catboost_overrides=catboost_overrides,
    )

    report("calibration", 0.82)
    minority = int(min(y_dev.sum(), len(y_dev) - y_dev.sum()))
    method = calibration_method_for(n_rows=len(y_dev), n_minority=minority)
    # Out-of-fold margins: every calibration row was predicted by a model that never saw it.
    calibrator = fit_calibrator(fit.oof_margin, y_dev, method)
    oof_probability = calibrator(fit.oof_margin)
    threshold, oof_f1 = best_f1_threshold(oof_probability, y_dev)

    report("evaluation", 0.88)
    if len(test):
        frame_test = prepared.frame.iloc[test].reset_index(drop=True)
        x_test = preprocessor.transform(frame_test)
        probability = calibrator(fit.engine.margin(x_test))
        evaluated_on = f"held-out test split ({split.method})"
        metrics = binary_metrics(probability, y_all[test], threshold=threshold)
        metrics["evaluated_on"] = evaluated_on
        curves = binary_curves(probability, y_all[test], evaluated_on=evaluated_on)
    else:
        evaluated_on = "inner validation (no test split; calibration metrics are optimistic)"
        metrics = binary_metrics(oof_probability, y_dev, threshold=threshold)
        metrics["evaluated_on"] = evaluated_on
        curves = binary_curves(oof_probability, y_dev, evaluated_on=evaluated_on)
    evaluated = (probability, y_all[test]) if len(test) else (oof_probability, y_dev)
    metrics.update(binary_naive(*evaluated, base_rate=float(y_dev.mean())))
    metrics["inner_validation_roc_auc"] = roc_auc(fit.oof_margin, y_dev)
    metrics["inner_validation_f1"] = oof_f1

    report("statistics", 0.93)
    baseline = describe_training_data(fit.engine, frame_dev, x_dev, seed)
    selection = fit.selection.to_dict()
    selection["calibration"] = {
        "method": method,
        "rows": len(y_dev),
        "minority": minority,
        "fitted_on": "out-of-fold margins of the development rows",
    }
    selection["threshold"] = {"value": threshold, "criterion": "max F1 on out-of-fold calibrated"}
    hyperparameters: dict[str, Any] = {
        "family": fit.selection.family,
        "tree_weight": fit.selection.tree_weight,
        "calibration": method,
        "seed": seed,
        "n_threads": threads,
    }
    if fit.rounds is not None:
        hyperparameters["xgboost"] = {
            **BASE_PARAMS,
            **OBJECTIVES["binary"],
            **(tree_overrides or {}),
            "rounds": fit.rounds,
        }
    if fit.catboost_rounds is not None:
        hyperparameters["catboost_weight"] = fit.selection.catboost_weight
        hyperparameters["catboost"] = {
            **CATBOOST_PARAMS,
            **catboost_overrides,
            "rounds": fit.catboost_rounds,
        }
    if fit.strength is not None:
        hyperparameters["logistic"] = {"C": fit.strength, "penalty": "l2"}
    positives = int(y_all.sum())
    summary = training_summary(
        prepared=prepared,
        split=split,
        started=started,
        extra={
            "features": len(features),
            "positives": positives,
            "positive_rate": positives / len(y_all),
            "development_positives": int(y_dev.sum()),
            # The rows behind roc_auc and ece, kept so the dashboard can draw both curves.
            "curves": curves,
        },
    )
    model = BinaryModel(
        engine=fit.engine,
        metrics=metrics,
        selection=selection,
        hyperparameters=hyperparameters,
        feature_stats=baseline.feature_stats,
        importance=baseline.importance,
        training=summary,
        references=baseline.references,
        quality=quality_from_score(_auc_for_quality(metrics), kind="auc"),
        calibrator=calibrator,
        threshold=threshold,
    )
    report("done", 1.0)
    return model


def _family(family: BinaryFamily) -> Family:
    if family not in ("auto", "xgboost", "catboost", "logistic", "blend"):
        raise InvalidInput(f"Unknown model family {family!r}.")
    return "linear" if family == "logistic" else family


def _auc_for_quality(metrics: dict[str, Any]) -> float | None:
    """Held-out ROC-AUC; the inner-validation one when the test split has a single class."""
    for key in ("roc_auc", "inner_validation_roc_auc"):
        value = metrics.get(key)
        if isinstance(value, int | float):
            return float(value)
    return None
