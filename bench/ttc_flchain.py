"""Time-to-event intervals on flchain_survival.csv: Propensity against Cox and Kaplan-Meier.

    .venv/bin/python bench/ttc_flchain.py [--seeds 11 22 33] [--json OUT]

Same stratified 70/30 splits (by the event flag) for every method; features age, sex,
sample.yr, kappa, lambda, flc.grp, creatinine, mgus. `chapter` (the cause of death) is left out:
it is only filled in for deaths, so it would hand the label to any model.

  propensity      train_survival(test_fraction=0) on the training rows (XGBoost AFT, interval
                  levels recalibrated on out-of-fold predictions, modeling/intervals.py).
                  flchain has no "lost" rows (every subject is at risk of the event until it
                  happens), so this is the plain AFT model, not the mixture TIME_TO_CLOSE uses
  propensity-mixture   for information only: the mixture (cure) model of TIME_TO_CLOSE
                  (modeling/cure.py) forced onto flchain with no row marked lost, C-index of
                  P(death within 10 years), coverage by its own definition (below)
  cox, kaplan-meier    ttc_baselines.py

Metrics on the test rows: Harrell's C (censoring-aware); p10-p90 coverage estimated by
Kaplan-Meier on the probability-integral transform u = F_i(T_i) (censored rows are censored u,
modeling/intervals.py), which counts censored rows instead of dropping them; coverage on
observed events only, for comparison; fit seconds. Where the Kaplan-Meier curve of u stops
before 0.9 (the upper tail is never observed under 72% censoring), the censoring-aware coverage
is a lower bound and is marked so. For the mixture, u is of the time given the event and each
censored row counts with its posterior probability of having the event at all (the definition
in docs/modeling.md, "Time to close"; ADR 0016).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.model_selection import train_test_split
from ttc_baselines import coverage, cox_u, km_u

from propensity.modeling import infer_feature_specs, train_survival
from propensity.modeling.metrics import concordance_index
from propensity.modeling.survival import probability_transform

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "flchain_survival.csv"
FEATURES = ["age", "sex", "sample.yr", "kappa", "lambda", "flc.grp", "creatinine", "mgus"]
LOW, HIGH = 0.1, 0.9
MIXTURE_HORIZON_DAYS = 3650.0


def design(train: pd.DataFrame, test: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    both = pd.get_dummies(pd.concat([train, test]), columns=["sex"], drop_first=True, dtype=float)
    both = both.astype(float)
    tr, te = both.iloc[: len(train)], both.iloc[len(train) :]
    median = tr.median()
    tr, te = tr.fillna(median), te.fillna(median)
    mean, std = tr.mean(), tr.std().replace(0, 1)
    return ((tr - mean) / std).to_numpy(), ((te - mean) / std).to_numpy()


def run(seed: int, frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    d = frame["futime"].to_numpy(dtype=float)
    d = np.maximum(d, 0.5)
    e = frame["death"].to_numpy() == 1
    tr, te = train_test_split(np.arange(len(d)), test_size=0.3, stratify=e, random_state=seed)
    x = frame[FEATURES]
    out: dict[str, dict[str, Any]] = {}

    started = time.perf_counter()
    train_x = x.iloc[tr].reset_index(drop=True)
    model = train_survival(
        frame=train_x,
        durations_days=d[tr],
        observed=e[tr],
        features=infer_feature_specs(train_x),
        seed=0,
        test_fraction=0.0,
    )
    seconds = time.perf_counter() - started
    test_x = x.iloc[te].reset_index(drop=True)
    location = model.margin(test_x) + model.shift
    u = probability_transform(location, model.scale, d[te])
    out["propensity"] = {
        "c_index": concordance_index(d[te], e[te], np.exp(location)),
        **coverage(u, e[te], *model.levels),
        "levels": list(model.levels),
        "fit_seconds": seconds,
    }
    # The same model with the interval at its nominal 0.1 / 0.9 levels: what recalibration adds.
    out["propensity-nominal"] = {
        "c_index": out["propensity"]["c_index"],
        **coverage(u, e[te], LOW, HIGH),
        "fit_seconds": seconds,
    }

    started = time.perf_counter()
    mixture = train_survival(
        frame=train_x,
        durations_days=d[tr],
        observed=e[tr],
        lost=np.zeros(len(tr), dtype=bool),
        horizon_days=MIXTURE_HORIZON_DAYS,
        features=infer_feature_specs(train_x),
        seed=0,
        test_fraction=0.0,
    )
    seconds = time.perf_counter() - started
    location = mixture.margin(test_x) + mixture.shift
    u = probability_transform(location, mixture.scale, d[te])
    weights = mixture.event_weights(test_x, d[te], e[te], np.zeros(len(te), dtype=bool))
    out["propensity-mixture"] = {
        "c_index": concordance_index(
            d[te], e[te], -mixture.probability_within(test_x, MIXTURE_HORIZON_DAYS)
        ),
        **coverage(u, e[te], *mixture.levels, weights),
        "fit_seconds": seconds,
    }

    started = time.perf_counter()
    x_tr, x_te = design(x.iloc[tr], x.iloc[te])
    lp, u_of = cox_u(x_tr, d[tr], e[tr], x_te)
    seconds = time.perf_counter() - started
    out["cox"] = {
        "c_index": concordance_index(d[te], e[te], -lp),
        **coverage(u_of(d[te]), e[te], LOW, HIGH),
        "fit_seconds": seconds,
    }

    started = time.perf_counter()
    u_km = km_u(d[tr], e[tr], d[te])
    out["kaplan-meier"] = {
        "c_index": concordance_index(d[te], e[te], np.zeros(len(te))),
        **coverage(u_km, e[te], LOW, HIGH),
        "fit_seconds": time.perf_counter() - started,
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 22, 33])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    frame = pd.read_csv(args.data)
    runs = {seed: run(seed, frame) for seed in args.seeds}
    print(f"flchain: {len(frame)} rows, {frame['death'].mean():.1%} events; seeds {args.seeds}")
    print("| method | C-index | p10-p90 coverage (censoring-aware) | events only | fit s |")
    print("| --- | --- | --- | --- | --- |")
    for method in runs[args.seeds[0]]:
        rows = [runs[s][method] for s in args.seeds]
        bound = " (lower bound)" if any(r["lower_bound"] for r in rows) else ""
        print(
            f"| {method} | {statistics.mean(r['c_index'] for r in rows):.4f} "
            f"| {statistics.mean(r['coverage'] for r in rows):.3f}{bound} "
            f"| {statistics.mean(r['coverage_events_only'] for r in rows):.3f} "
            f"| {statistics.mean(r['fit_seconds'] for r in rows):.2f} |"
        )
    levels = [runs[s]["propensity"]["levels"] for s in args.seeds]
    print(f"propensity levels served as p10/p90: {levels}")
    print(f"(normal quantiles of the nominal levels: {norm.ppf(LOW):.3f}, {norm.ppf(HIGH):.3f})")
    if args.json is not None:
        args.json.write_text(json.dumps(runs, indent=2, default=float))


if __name__ == "__main__":
    main()
