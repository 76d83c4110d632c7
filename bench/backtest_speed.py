"""How long `propensity backtest` takes on a 5,000-row, 85-column file (issue #3: < 30 s).

Generates a wide mixed-type table with a known logistic signal, writes train and test CSVs,
and times the backtest end to end (reading both files, training with model selection and
calibration, scoring, writing predictions) several times. The baseline, timed in the same
run, is scikit-learn's plain logistic regression on the same one-hot matrix.

    .venv/bin/python bench/backtest_speed.py --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from propensity.crm.formats import read_path
from propensity.training.backtest import run_backtest

ROWS, NUMERIC, CATEGORICAL, BOOLEAN = 5000, 70, 10, 4  # + id = 85 columns


def make_table(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {"customer_id": [f"c{i:06d}" for i in range(rows)]}
    logit = np.full(rows, -1.5)
    for j in range(NUMERIC):
        x = rng.normal(size=rows)
        x[rng.random(rows) < 0.05] = np.nan
        if j < 8:
            logit += np.nan_to_num(x) * (0.6 if j % 2 else -0.5)
        data[f"num_{j:02d}"] = x
    for j in range(CATEGORICAL):
        levels = np.array([f"level_{k}" for k in range(3 + j)])
        values = levels[rng.integers(0, len(levels), rows)]
        if j < 3:
            logit += (values == "level_0") * 0.8
        data[f"cat_{j}"] = values
    for j in range(BOOLEAN):
        data[f"flag_{j}"] = rng.random(rows) < 0.3
    data["label"] = np.where(rng.random(rows) < 1 / (1 + np.exp(-logit)), "yes", "no")
    return pd.DataFrame(data)


def baseline_seconds(train: pd.DataFrame) -> float:
    features = train.drop(columns=["customer_id", "label"])
    numeric = [c for c in features if c.startswith("num_")]
    other = [c for c in features if c not in numeric]
    model = make_pipeline(
        ColumnTransformer(
            [
                ("num", make_pipeline(SimpleImputer(), StandardScaler()), numeric),
                ("cat", OneHotEncoder(handle_unknown="ignore"), other),
            ]
        ),
        LogisticRegression(max_iter=1000),
    )
    started = time.perf_counter()
    model.fit(features.astype({c: str for c in other}), train["label"] == "yes")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        train, test = make_table(ROWS, 1), make_table(ROWS // 2, 2)
        train.to_csv(folder / "train.csv", index=False)
        test.drop(columns=["label"]).to_csv(folder / "test.csv", index=False)
        timings, baselines = [], []
        for repeat in range(args.repeats):
            started = time.perf_counter()
            result = run_backtest(
                train=read_path(folder / "train.csv").frame,
                test=read_path(folder / "test.csv").frame,
                label="label",
                positive="yes",
                seed=repeat,
            )
            result.predictions.to_csv(folder / "predictions.csv", index=False)
            timings.append(time.perf_counter() - started)
            baselines.append(baseline_seconds(train))
            print(
                f"repeat {repeat + 1}: backtest {timings[-1]:.1f} s, "
                f"chosen {result.model.family}, "
                f"held-out AUC {result.model.metrics['roc_auc']:.3f}; "
                f"baseline {baselines[-1]:.2f} s"
            )
    median, base = statistics.median(timings), statistics.median(baselines)
    print(f"columns: {train.shape[1]}, rows: {ROWS} train / {ROWS // 2} test")
    print(f"backtest median {median:.1f} s (max {max(timings):.1f} s); target < 30 s")
    print(
        f"baseline (plain logistic regression fit) median {base:.2f} s; ratio {median / base:.0f}x"
    )


if __name__ == "__main__":
    main()
