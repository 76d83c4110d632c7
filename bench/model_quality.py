"""Model quality benchmark: Propensity's train_binary against what users would otherwise reach
for, on the Telco churn file with stratified k-fold cross-validation, in one run.

    .venv/bin/python bench/model_quality.py [--repeats 3] [--folds 5] [--data PATH] [--json OUT]

Methods (every one sees exactly the same folds):
  propensity           train_binary(test_fraction=0): the outer fold is the test split, so the
                       pipeline's own 20% holdout is switched off and it trains on the whole fold
  propensity-holdout   train_binary defaults: it also holds out 20% of the fold internally
  logistic             scikit-learn LogisticRegression defaults (C=1) after one-hot encoding,
                       median imputation and standard scaling
  hist-gbdt            HistGradientBoostingClassifier defaults, native categorical support
  xgboost-defaults     XGBClassifier defaults (hist, native categorical support)

Quality metrics are per fold (mean +- std) and pooled over the out-of-fold predictions of all
rows. ECE uses 10 equal-width bins; because ECE has a positive floor even for perfectly
calibrated predictions, the expected ECE of perfectly calibrated predictions of the same size
is printed next to it ("ECE floor", simulated). Quality is deterministic, so it is reported from
the first repeat; fit times are the median over repeats of each method's per-fold times, and
"x logistic" is that median divided by the plain logistic regression's median in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
import xgboost as xgb
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from propensity.modeling import infer_feature_specs, train_binary
from propensity.modeling.metrics import expected_calibration_error

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "telco_churn.csv"
TARGETS = {"roc_auc": 0.845, "brier": 0.136, "ece": 0.02, "fit_seconds": 10.0}

Fit = Callable[[pd.DataFrame, np.ndarray], Callable[[pd.DataFrame], np.ndarray]]


def load(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    frame = pd.read_csv(path)
    labels = (frame.pop("churn") == "Yes").to_numpy(dtype=float)
    return frame.drop(columns="customer_id"), labels


def categorical_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]


def with_category_dtype(frame: pd.DataFrame) -> pd.DataFrame:
    """Category dtype over the whole file's vocabulary (label-free) for the native-categorical
    tree baselines, so train and test folds share one category coding."""
    out = frame.copy()
    for column in categorical_columns(frame):
        out[column] = out[column].astype("category")
    return out


def fit_propensity(test_fraction: float) -> Fit:
    def fit(frame: pd.DataFrame, labels: np.ndarray) -> Callable[[pd.DataFrame], np.ndarray]:
        specs = infer_feature_specs(frame)
        model = train_binary(
            frame=frame, labels=labels, features=specs, seed=0, test_fraction=test_fraction
        )
        fit.last_model = model  # type: ignore[attr-defined]
        predict: Callable[[pd.DataFrame], np.ndarray] = model.predict_proba
        return predict

    return fit


def fit_logistic(frame: pd.DataFrame, labels: np.ndarray) -> Callable[[pd.DataFrame], np.ndarray]:
    categorical = categorical_columns(frame)
    numeric = [c for c in frame.columns if c not in categorical]
    pipeline = make_pipeline(
        ColumnTransformer(
            [
                ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
                (
                    "numeric",
                    make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                    numeric,
                ),
            ]
        ),
        LogisticRegression(max_iter=2000),
    )
    pipeline.fit(frame, labels)
    return lambda x: pipeline.predict_proba(x)[:, 1]


def fit_hist_gbdt(frame: pd.DataFrame, labels: np.ndarray) -> Callable[[pd.DataFrame], np.ndarray]:
    model = HistGradientBoostingClassifier(random_state=0, categorical_features="from_dtype")
    model.fit(frame, labels)
    return lambda x: model.predict_proba(x)[:, 1]


def fit_xgboost_defaults(
    frame: pd.DataFrame, labels: np.ndarray
) -> Callable[[pd.DataFrame], np.ndarray]:
    model = xgb.XGBClassifier(enable_categorical=True, tree_method="hist", random_state=0)
    model.fit(frame, labels)
    return lambda x: model.predict_proba(x)[:, 1]


METHODS: dict[str, tuple[Fit, bool]] = {
    # name: (fit function, needs category dtype)
    "propensity": (fit_propensity(0.0), False),
    "propensity-holdout": (fit_propensity(0.2), False),
    "logistic": (fit_logistic, False),
    "hist-gbdt": (fit_hist_gbdt, True),
    "xgboost-defaults": (fit_xgboost_defaults, True),
}


def fold_metrics(probability: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    return {
        "roc_auc": float(roc_auc_score(labels, probability)),
        "log_loss": float(log_loss(labels, np.clip(probability, 1e-15, 1 - 1e-15))),
        "brier": float(brier_score_loss(labels, probability)),
        "ece": expected_calibration_error(probability, labels),
    }


def ece_floor(probability: np.ndarray, seed: int = 0, draws: int = 200) -> float:
    """Expected ECE of perfectly calibrated predictions: labels drawn from the probabilities."""
    rng = np.random.default_rng(seed)
    return float(
        np.mean(
            [
                expected_calibration_error(
                    probability, (rng.random(len(probability)) < probability).astype(float)
                )
                for _ in range(draws)
            ]
        )
    )


def run_once(frame: pd.DataFrame, labels: np.ndarray, folds: int) -> dict[str, dict[str, Any]]:
    categorical_frame = with_category_dtype(frame)
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=0).split(frame, labels))
    results: dict[str, dict[str, Any]] = {}
    for name, (fit, needs_categories) in METHODS.items():
        data = categorical_frame if needs_categories else frame
        pooled = np.zeros(len(labels))
        per_fold: list[dict[str, float]] = []
        chosen: list[str] = []
        for train_rows, test_rows in splits:
            started = time.perf_counter()
            predict = fit(data.iloc[train_rows].reset_index(drop=True), labels[train_rows])
            seconds = time.perf_counter() - started
            probability = predict(data.iloc[test_rows].reset_index(drop=True))
            pooled[test_rows] = probability
            per_fold.append(
                {**fold_metrics(probability, labels[test_rows]), "fit_seconds": seconds}
            )
            model = getattr(fit, "last_model", None)
            if model is not None:
                chosen.append(
                    f"{model.selection['chosen']}/{model.selection['calibration']['method']}"
                )
        results[name] = {
            "folds": per_fold,
            "pooled": fold_metrics(pooled, labels),
            "ece_floor_fold": statistics.mean(
                ece_floor(pooled[test_rows]) for _, test_rows in splits
            ),
            "ece_floor_pooled": ece_floor(pooled),
            "chosen": chosen,
        }
    return results


def machine() -> dict[str, str]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "xgboost": xgb.__version__,
        "scikit-learn": sklearn.__version__,
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "load_average_at_start": " ".join(f"{v:.2f}" for v in os.getloadavg()),
    }


def mean_std(values: list[float], digits: int = 4) -> str:
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def report(runs: list[dict[str, dict[str, Any]]], info: dict[str, str], folds: int) -> str:
    first = runs[0]
    median_fit = {
        name: statistics.median(f["fit_seconds"] for run in runs for f in run[name]["folds"])
        for name in first
    }
    lines = [
        f"{folds}-fold stratified CV, {len(runs)} repeat(s); quality from repeat 1 "
        "(deterministic), "
        "fit time = median over all repeats and folds.",
        "",
        "| method | ROC-AUC | log-loss | Brier | ECE (per fold) | ECE floor (fold) "
        "| ECE (pooled) | ECE floor (pooled) | fit s (median) | max fit s | x logistic |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, result in first.items():
        per_fold = result["folds"]
        max_fit = max(f["fit_seconds"] for run in runs for f in run[name]["folds"])
        lines.append(
            f"| {name} | {mean_std([f['roc_auc'] for f in per_fold])} "
            f"| {mean_std([f['log_loss'] for f in per_fold])} "
            f"| {mean_std([f['brier'] for f in per_fold])} "
            f"| {mean_std([f['ece'] for f in per_fold])} "
            f"| {result['ece_floor_fold']:.4f} "
            f"| {result['pooled']['ece']:.4f} | {result['ece_floor_pooled']:.4f} "
            f"| {median_fit[name]:.2f} | {max_fit:.2f} "
            f"| {median_fit[name] / median_fit['logistic']:.1f} |"
        )
    chosen = first["propensity"]["chosen"]
    lines += ["", f"propensity chose per fold: {', '.join(chosen)}"]
    ours = first["propensity"]
    checks = {
        "ROC-AUC >= 0.845 (mean over folds)": statistics.mean(f["roc_auc"] for f in ours["folds"])
        >= TARGETS["roc_auc"],
        "Brier <= 0.136 (mean over folds)": statistics.mean(f["brier"] for f in ours["folds"])
        <= TARGETS["brier"],
        "ECE <= 0.02 (pooled out-of-fold predictions)": ours["pooled"]["ece"] <= TARGETS["ece"],
        "ECE <= 0.02 (mean over folds)": statistics.mean(f["ece"] for f in ours["folds"])
        <= TARGETS["ece"],
        "training <= 10 s per fold (slowest fold of all repeats)": max(
            f["fit_seconds"] for run in runs for f in run["propensity"]["folds"]
        )
        <= TARGETS["fit_seconds"],
    }
    lines += ["", *[f"- {'PASS' if ok else 'MISS'}: {check}" for check, ok in checks.items()]]
    lines += ["", "machine: " + ", ".join(f"{k} {v}" for k, v in info.items())]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="write raw results here")
    args = parser.parse_args()

    frame, labels = load(args.data)
    info = machine()
    info["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    runs = []
    # BLAS single-threaded for every method, as Propensity does internally: on two cores BLAS
    # and OpenMP threads otherwise compete (see propensity/modeling/threads.py).
    with threadpool_limits(limits=1, user_api="blas"):
        for repeat in range(args.repeats):
            started = time.perf_counter()
            runs.append(run_once(frame, labels, args.folds))
            print(f"repeat {repeat + 1}/{args.repeats}: {time.perf_counter() - started:.1f} s")
    print()
    print(report(runs, info, args.folds))
    if args.json is not None:
        args.json.write_text(json.dumps({"machine": info, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
