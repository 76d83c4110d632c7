"""Training plumbing shared by the binary, time-to-event and regression trainers: input checks,
the split, cross-fitting both families, selection, the final refit, importance and statistics."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from propensity.errors import InvalidInput
from propensity.modeling.catboost_trees import cross_fit_catboost, fit_catboost
from propensity.modeling.encoding import timestamps_ns
from propensity.modeling.ensemble import MarginModel, linear_share
from propensity.modeling.linear import LinearKind, LinearModel, fit_linear, fit_linear_path
from propensity.modeling.preprocessing import Preprocessor
from propensity.modeling.selection import Family, Selection, select_family
from propensity.modeling.specs import FeatureSpec, validate_specs
from propensity.modeling.splits import HoldoutSplit, holdout_split, inner_folds
from propensity.modeling.threads import threads_for
from propensity.modeling.trees import cross_fit_trees, fit_trees, tree_params

ProgressCallback = Callable[[str, float], None]


class Progress:
    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback

    def __call__(self, stage: str, fraction: float) -> None:
        if self.callback is not None:
            self.callback(stage, float(min(max(fraction, 0.0), 1.0)))


@dataclass(frozen=True, kw_only=True)
class Prepared:
    frame: pd.DataFrame
    keep: np.ndarray  # rows of the caller's frame that have a label, in order
    times_ns: np.ndarray | None


def prepare(
    *,
    frame: pd.DataFrame,
    features: Sequence[FeatureSpec],
    n_rows: int,
    keep: np.ndarray,
    times: pd.Series | None,
) -> Prepared:
    validate_specs(features)
    if len(frame) != n_rows:
        raise InvalidInput(
            f"The frame has {len(frame)} rows but {n_rows} labels were given.",
            details={"rows": len(frame), "labels": n_rows},
        )
    absent = [f.name for f in features if f.name not in frame.columns]
    if absent:
        raise InvalidInput(
            f"Training data lacks declared feature columns: {', '.join(absent)}.",
            details={"missing_columns": absent},
        )
    stamps = None
    if times is not None:
        if len(times) != n_rows:
            raise InvalidInput(f"`times` has {len(times)} values for {n_rows} rows.")
        stamps = timestamps_ns(pd.Series(times).reset_index(drop=True))
        if np.any(stamps == np.iinfo(np.int64).min):
            raise InvalidInput("`times` must hold a valid timestamp for every row.")
        stamps = stamps[keep]
    kept = frame.reset_index(drop=True).iloc[np.flatnonzero(keep)].reset_index(drop=True)
    return Prepared(frame=kept, keep=keep, times_ns=stamps)


def split_rows(
    prepared: Prepared, *, strata: np.ndarray | None, test_fraction: float, seed: int
) -> HoldoutSplit:
    if not 0.0 <= test_fraction < 0.5:
        raise InvalidInput("test_fraction must be in [0, 0.5).")
    return holdout_split(
        n_rows=len(prepared.frame),
        strata=strata,
        times_ns=prepared.times_ns,
        test_fraction=test_fraction,
        seed=seed,
    )


@dataclass(frozen=True, kw_only=True)
class Development:
    """The labelled rows after the split: the development rows preprocessed for fitting, with
    their inner folds; the test rows wait in `prepared` for the evaluation."""

    prepared: Prepared
    split: HoldoutSplit
    frame: pd.DataFrame  # the development rows, indexed from 0
    preprocessor: Preprocessor
    x: np.ndarray
    threads: int
    folds: list[tuple[np.ndarray, np.ndarray]]

    def test_x(self) -> np.ndarray:
        return self.preprocessor.transform(
            self.prepared.frame.iloc[self.split.test].reset_index(drop=True)
        )


def develop(
    prepared: Prepared,
    features: Sequence[FeatureSpec],
    *,
    strata: np.ndarray | None,
    test_fraction: float,
    inner_folds_count: int,
    seed: int,
    n_threads: int | None,
    check: Callable[[HoldoutSplit], None] | None = None,
) -> Development:
    """Split, preprocess the development rows and fold them. `strata` are per labelled row;
    `check` sees the split before anything is fitted (the development rows must be enough on
    their own, whatever the whole was)."""
    split = split_rows(prepared, strata=strata, test_fraction=test_fraction, seed=seed)
    dev = split.development
    frame_dev = prepared.frame.iloc[dev].reset_index(drop=True)
    if check is not None:
        check(split)
    preprocessor = Preprocessor.fit(frame_dev, features)
    folds = inner_folds(
        n_rows=len(dev),
        strata=None if strata is None else strata[dev],
        times_ns=None if prepared.times_ns is None else prepared.times_ns[dev],
        n_folds=inner_folds_count,
        seed=seed,
    )
    return Development(
        prepared=prepared,
        split=split,
        frame=frame_dev,
        preprocessor=preprocessor,
        x=preprocessor.transform(frame_dev),
        threads=threads_for(n_threads),
        folds=folds,
    )


@dataclass(frozen=True, kw_only=True)
class LinearPlan:
    kind: LinearKind
    grid: Sequence[float]
    target: np.ndarray  # development rows


@dataclass(frozen=True, kw_only=True)
class FitResult:
    engine: MarginModel
    selection: Selection
    oof_margin: np.ndarray  # the chosen candidate's out-of-fold margin per development row
    rounds: int | None
    strength: float | None
    tree_score: float | None  # mean inner-validation eval metric of the trees at `rounds`
    catboost_rounds: int | None = None


def fit_and_select(
    *,
    x_dev: np.ndarray,
    preprocessor: Preprocessor,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    task: str,
    make_matrix: Callable[[np.ndarray], xgb.DMatrix],
    linear: LinearPlan | None,
    loss: Callable[[np.ndarray], float],
    criterion: str,
    family: Family,
    seed: int,
    n_threads: int,
    progress: Progress,
    tree_overrides: Mapping[str, Any] | None = None,
    catboost_target: np.ndarray | None = None,
    catboost_overrides: Mapping[str, Any] | None = None,
) -> FitResult:
    """Cross-fit the requested families on the development rows, select, refit on all of them.

    `tree_overrides` (XGBoost parameter names) replace the conservative defaults; validated
    by the caller (the model API checks ranges before a job is queued). `catboost_target`
    (binary labels of the development rows) adds CatBoost as a candidate; the caller decides
    whether the data and time budget allow it (see candidates.py)."""
    params = {**tree_params(task, seed=seed, n_threads=n_threads), **(tree_overrides or {})}
    want_catboost = catboost_target is not None and family in ("auto", "blend", "catboost")
    want_trees = family in ("auto", "blend", "xgboost") or (linear is None and not want_catboost)
    want_linear = linear is not None and family in ("auto", "blend", "linear")
    tree_cv = None
    if want_trees:
        progress("xgboost", 0.10)
        tree_cv = cross_fit_trees(
            make_matrix=make_matrix,
            folds=folds,
            n_rows=len(x_dev),
            params=params,
            on_fold=lambda i: progress("xgboost", 0.10 + 0.2 * (i + 1) / len(folds)),
        )
    cat_cv = None
    if want_catboost and catboost_target is not None:
        progress("catboost", 0.31)
        cat_cv = cross_fit_catboost(
            x=x_dev,
            y=catboost_target,
            folds=folds,
            seed=seed,
            n_threads=n_threads,
            on_fold=lambda i: progress("catboost", 0.31 + 0.14 * (i + 1) / len(folds)),
            overrides=catboost_overrides,
        )
    linear_oof: np.ndarray | None = None
    strength: float | None = None
    best_linear = np.inf
    strength_scores: dict[str, float] = {}
    if want_linear and linear is not None:
        progress(linear.kind, 0.45)
        oofs = {c: np.full(len(x_dev), np.nan) for c in linear.grid}
        for k, (train_rows, valid_rows) in enumerate(folds):
            path = fit_linear_path(
                x_dev[train_rows],
                linear.target[train_rows],
                onehot=preprocessor.is_onehot,
                kind=linear.kind,
                grid=linear.grid,
            )
            for model in path:
                oofs[model.strength][valid_rows] = model.margin(x_dev[valid_rows])
            progress(linear.kind, 0.45 + 0.25 * (k + 1) / len(folds))
        for candidate, oof in oofs.items():
            score = loss(oof)
            strength_scores[f"{candidate:g}"] = score
            if score < best_linear:
                best_linear, linear_oof, strength = score, oof, candidate
    progress("blend", 0.72)
    extra: dict[str, Any] = {"inner_folds": len(folds), "development_rows": len(x_dev)}
    if tree_cv is not None:
        extra["xgboost_rounds"] = tree_cv.rounds
    if cat_cv is not None:
        extra["catboost_rounds"] = cat_cv.rounds
    if strength_scores:
        extra["linear_strength_scores"] = strength_scores
        extra["linear_strength"] = strength
    selection = select_family(
        tree_oof=None if tree_cv is None else tree_cv.oof_margin,
        linear_oof=linear_oof,
        loss=loss,
        criterion=criterion,
        linear_name=linear.kind if linear is not None else "linear",
        forced=family,
        extra=extra,
        catboost_oof=None if cat_cv is None else cat_cv.oof_margin,
    )
    w, c = selection.tree_weight, selection.catboost_weight
    lw = linear_share(w, c)
    oof_margin = np.zeros(len(x_dev))
    if w > 0 and tree_cv is not None:
        oof_margin += w * tree_cv.oof_margin
    if c > 0 and cat_cv is not None:
        oof_margin += c * cat_cv.oof_margin
    if lw > 0 and linear_oof is not None:
        oof_margin += lw * linear_oof
    progress("refit", 0.78)
    booster_raw = None
    if w > 0 and tree_cv is not None:
        # Refit on every development row with the round count chosen across the inner folds.
        booster = fit_trees(
            matrix=make_matrix(np.arange(len(x_dev))), params=params, rounds=tree_cv.rounds
        )
        booster_raw = bytes(booster.save_raw(raw_format="ubj"))
    catboost_raw = None
    if c > 0 and cat_cv is not None and catboost_target is not None:
        catboost_raw = fit_catboost(
            x_dev,
            catboost_target,
            rounds=cat_cv.rounds,
            seed=seed,
            n_threads=n_threads,
            overrides=catboost_overrides,
        )
    final_linear: LinearModel | None = None
    if lw > 0 and linear is not None and strength is not None:
        final_linear = fit_linear(
            x_dev,
            linear.target,
            onehot=preprocessor.is_onehot,
            kind=linear.kind,
            strength=strength,
        )
    engine = MarginModel(
        preprocessor=preprocessor,
        booster_raw=booster_raw,
        linear=final_linear,
        tree_weight=w,
        n_threads=n_threads,
        catboost_raw=catboost_raw,
        catboost_weight=c,
    )
    return FitResult(
        engine=engine,
        selection=selection,
        oof_margin=oof_margin,
        rounds=tree_cv.rounds if (tree_cv is not None and w > 0) else None,
        strength=strength if lw > 0 else None,
        catboost_rounds=cat_cv.rounds if (cat_cv is not None and c > 0) else None,
        tree_score=tree_cv.best_score if tree_cv is not None else None,
    )


def training_summary(
    *,
    prepared: Prepared,
    split: HoldoutSplit,
    started: float,
    extra: dict[str, Any],
) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "rows": len(prepared.frame),
        "unlabelled_rows_dropped": int(len(prepared.keep) - prepared.keep.sum()),
        "development_rows": len(split.development),
        "test_rows": len(split.test),
        "split": split.method,
        **extra,
    }
    if prepared.times_ns is not None:
        summary["time_range"] = {
            "start": pd.Timestamp(int(prepared.times_ns.min()), tz="UTC").isoformat(),
            "end": pd.Timestamp(int(prepared.times_ns.max()), tz="UTC").isoformat(),
        }
        if len(split.test):
            summary["test_time_range"] = {
                "start": pd.Timestamp(
                    int(prepared.times_ns[split.test].min()), tz="UTC"
                ).isoformat(),
                "end": pd.Timestamp(int(prepared.times_ns[split.test].max()), tz="UTC").isoformat(),
            }
    summary["duration_seconds"] = round(time.perf_counter() - started, 3)
    return summary
