"""Model quality against three standard baselines on every binary data set (issue 16).

    .venv/bin/python bench/quality_suite.py [--data-dir DIR] [--seeds 11 22 33]
        [--datasets telco credit lending oj] [--methods ...] [--json OUT]

Every method sees the same stratified 70/30 split per seed (scikit-learn's train_test_split,
`random_state=seed`) and is scored on the same 30%:

  logistic       one-hot (unknown levels ignored), median imputation, standard scaling, then
                 LogisticRegression(C=1)
  small-xgboost  XGBoost depth 4, eta 0.05, up to 500 rounds, early stopping (50 rounds, log-loss)
                 on a stratified 15% of the training split, native categoricals
  catboost       CatBoostClassifier defaults, native categoricals
  propensity     `run_backtest` (what `propensity backtest` runs) on the training rows, read with
                 the CLI's own file reader; the 30% is the test file

Metrics: ROC-AUC, Brier, log-loss and ECE (10 equal-width bins) on the test rows, fit time in
seconds; means over the seeds. Baselines use at most 2 threads (the machine has 2 cores);
Propensity uses its default thread count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from propensity.crm.formats import read_path
from propensity.modeling.metrics import expected_calibration_error
from propensity.training.backtest import run_backtest

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
THREADS = 2
SEEDS = (11, 22, 33)
TIE = 0.001  # the tolerance: within it, a tie counts as not behind


@dataclass(frozen=True)
class Dataset:
    file: str
    label: str
    positive: str
    id_column: str


DATASETS: dict[str, Dataset] = {
    "telco": Dataset("telco_churn.csv", "churn", "Yes", "customer_id"),
    "credit": Dataset("credit_data.csv", "Status", "bad", "record_id"),
    "lending": Dataset("lending_club.csv", "Class", "bad", "record_id"),
    "oj": Dataset("oj_purchase.csv", "Purchase", "MM", "record_id"),
}
BASELINES = ("logistic", "small-xgboost", "catboost")
METHODS = (*BASELINES, "propensity")

Predict = Callable[[pd.DataFrame], np.ndarray]


def categorical_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]


def fit_logistic(x: pd.DataFrame, y: np.ndarray, seed: int) -> Predict:
    categorical = categorical_columns(x)
    numeric = [c for c in x.columns if c not in categorical]
    pipeline = make_pipeline(
        ColumnTransformer(
            [
                (
                    "categorical",
                    make_pipeline(
                        SimpleImputer(strategy="constant", fill_value="missing"),
                        OneHotEncoder(handle_unknown="ignore"),
                    ),
                    categorical,
                ),
                (
                    "numeric",
                    make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                    numeric,
                ),
            ]
        ),
        LogisticRegression(C=1.0, max_iter=5000),
    )
    pipeline.fit(_as_object(x, categorical), y)
    return lambda frame: pipeline.predict_proba(_as_object(frame, categorical))[:, 1]


def _as_object(frame: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for column in categorical:
        out[column] = out[column].astype(object).where(out[column].notna(), np.nan)
    return out


def _categories(x: pd.DataFrame) -> dict[str, pd.CategoricalDtype]:
    return {c: pd.CategoricalDtype(sorted(x[c].dropna().unique())) for c in categorical_columns(x)}


def fit_small_xgboost(x: pd.DataFrame, y: np.ndarray, seed: int) -> Predict:
    dtypes = _categories(x)

    def encode(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.astype(dtypes)  # type: ignore[arg-type]

    fit_rows, stop_rows = train_test_split(
        np.arange(len(x)), test_size=0.15, stratify=y, random_state=seed
    )
    model = xgb.XGBClassifier(
        max_depth=4,
        learning_rate=0.05,
        n_estimators=500,
        early_stopping_rounds=50,
        eval_metric="logloss",
        tree_method="hist",
        enable_categorical=True,
        n_jobs=THREADS,
        random_state=seed,
    )
    encoded = encode(x)
    model.fit(
        encoded.iloc[fit_rows],
        y[fit_rows],
        eval_set=[(encoded.iloc[stop_rows], y[stop_rows])],
        verbose=False,
    )
    return lambda frame: model.predict_proba(encode(frame))[:, 1]


def fit_catboost(x: pd.DataFrame, y: np.ndarray, seed: int) -> Predict:
    from catboost import CatBoostClassifier

    categorical = categorical_columns(x)

    def encode(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        for column in categorical:
            out[column] = out[column].astype(object).where(out[column].notna(), "NA").astype(str)
        return out

    model = CatBoostClassifier(
        cat_features=categorical,
        verbose=0,
        random_seed=seed,
        thread_count=THREADS,
        allow_writing_files=False,  # no catboost_info/ folder; the model is unchanged
    )
    model.fit(encode(x), y)
    return lambda frame: model.predict_proba(encode(frame))[:, 1]


FITTERS: dict[str, Callable[[pd.DataFrame, np.ndarray, int], Predict]] = {
    "logistic": fit_logistic,
    "small-xgboost": fit_small_xgboost,
    "catboost": fit_catboost,
}


def scores(probability: np.ndarray, y: np.ndarray) -> dict[str, float]:
    p = np.clip(probability, 1e-15, 1 - 1e-15)
    return {
        "roc_auc": float(roc_auc_score(y, probability)),
        "brier": float(brier_score_loss(y, probability)),
        "log_loss": float(log_loss(y, p)),
        "ece": expected_calibration_error(probability, y),
    }


def run_dataset(
    name: str, data_dir: Path, seeds: list[int], methods: list[str]
) -> dict[str, list[dict[str, Any]]]:
    spec = DATASETS[name]
    raw = read_path(data_dir / spec.file).frame  # the CLI's reader, for Propensity's path
    labels = (raw[spec.label].astype(str) == spec.positive).to_numpy(dtype=np.int64)
    plain = pd.read_csv(data_dir / spec.file)  # what a data scientist's baseline reads
    features = plain.drop(columns=[spec.label, spec.id_column])
    results: dict[str, list[dict[str, Any]]] = {m: [] for m in methods}
    for seed in seeds:
        train_rows, test_rows = train_test_split(
            np.arange(len(raw)), test_size=0.3, stratify=labels, random_state=seed
        )
        y_train, y_test = labels[train_rows], labels[test_rows]
        for method in methods:
            started = time.perf_counter()
            extra: dict[str, Any] = {}
            if method == "propensity":
                probability, extra = _propensity(raw, spec, train_rows, test_rows, seed)
                seconds = time.perf_counter() - started
            else:
                with threadpool_limits(limits=THREADS):
                    predict = FITTERS[method](
                        features.iloc[train_rows].reset_index(drop=True), y_train, seed
                    )
                    seconds = time.perf_counter() - started
                    probability = predict(features.iloc[test_rows].reset_index(drop=True))
            results[method].append(
                {"seed": seed, **scores(probability, y_test), "fit_seconds": seconds, **extra}
            )
            print(
                f"  {name} seed {seed} {method}: AUC {results[method][-1]['roc_auc']:.4f} "
                f"Brier {results[method][-1]['brier']:.4f} {seconds:.1f} s "
                f"{extra.get('chosen', '')}",
                flush=True,
            )
    return results


def _propensity(
    raw: pd.DataFrame, spec: Dataset, train_rows: np.ndarray, test_rows: np.ndarray, seed: int
) -> tuple[np.ndarray, dict[str, Any]]:
    """Through files, as `propensity backtest --train A --test B` does; the test file keeps
    its label column out so nothing downstream can read it."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        raw.iloc[train_rows].to_csv(folder / "train.csv", index=False)
        raw.iloc[test_rows].drop(columns=[spec.label]).to_csv(folder / "test.csv", index=False)
        result = run_backtest(
            train=read_path(folder / "train.csv").frame,
            test=read_path(folder / "test.csv").frame,
            label=spec.label,
            positive=spec.positive,
            seed=0,
        )
    probability = result.predictions["probability"].to_numpy(dtype=np.float64)
    selection = result.model.selection
    return probability, {
        "chosen": f"{selection['chosen']}/{selection['calibration']['method']}",
        "candidates": selection.get("candidates", {}),
    }


def machine() -> dict[str, str]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info = {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "xgboost": xgb.__version__,
        "load_average_at_start": " ".join(f"{v:.2f}" for v in os.getloadavg()),
    }
    try:
        import catboost

        info["catboost"] = catboost.__version__
    except ImportError:
        pass
    return info


def mean(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.mean(float(r[key]) for r in rows)


def report(results: dict[str, dict[str, list[dict[str, Any]]]]) -> str:
    lines = [
        "| data | method | ROC-AUC | Brier | log-loss | ECE | fit s (mean) | x logistic |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    verdicts: list[str] = []
    for name, per_method in results.items():
        base_time = mean(per_method["logistic"], "fit_seconds") if "logistic" in per_method else 0
        for method, rows in per_method.items():
            ratio = mean(rows, "fit_seconds") / base_time if base_time else float("nan")
            lines.append(
                f"| {name} | {method} | {mean(rows, 'roc_auc'):.4f} | {mean(rows, 'brier'):.4f} "
                f"| {mean(rows, 'log_loss'):.4f} | {mean(rows, 'ece'):.4f} "
                f"| {mean(rows, 'fit_seconds'):.2f} | {ratio:.0f} |"
            )
        baselines = [m for m in BASELINES if m in per_method]
        if "propensity" in per_method and baselines:
            ours = per_method["propensity"]
            best_auc = max(mean(per_method[m], "roc_auc") for m in baselines)
            best_brier = min(mean(per_method[m], "brier") for m in baselines)
            d_auc = mean(ours, "roc_auc") - best_auc
            d_brier = mean(ours, "brier") - best_brier
            ok = d_auc >= -TIE and d_brier <= TIE
            verdicts.append(
                f"- {'PASS' if ok else 'MISS'} {name}: AUC {d_auc:+.4f} vs best baseline "
                f"{best_auc:.4f}, Brier {d_brier:+.4f} vs best {best_brier:.4f}; chose "
                + ", ".join(str(r.get("chosen", "")) for r in ours)
            )
    return "\n".join([*lines, "", *verdicts])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    info = machine()
    info["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    started = time.perf_counter()
    for name in args.datasets:
        results[name] = run_dataset(name, args.data_dir, args.seeds, args.methods)
    print(f"\ntotal {time.perf_counter() - started:.0f} s; seeds {args.seeds}\n")
    print(report(results))
    print("\nmachine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    if args.json is not None:
        args.json.write_text(json.dumps({"machine": info, "results": results}, indent=2))


if __name__ == "__main__":
    main()
