"""False drivers and naive baselines on the simulator's data (issue 16).

    .venv/bin/python bench/quality_drivers.py --database sqlite:////path/to/demo.db

Reads a database that `propensity demo` filled and builds the training sets exactly as training
does. Then:

1. Account churn, trained twice with the same seed: as before issue 16 (XGBoost's leaf-size
   floor of 5 rows, passed explicitly; CatBoost is not a candidate at this size) and as now (the
   floor scaled by the snapshots per account). For each: held-out ROC-AUC and Brier, the
   importance rank of every attribute the simulator gives no effect, and how many accounts of
   the newest snapshot name each of them among their top three risks or strengths
   (narratives.facts.rank_drivers, what a narrative's driver lines are drawn from).
2. The naive-baseline margins stored with each model's metrics: account churn against the base
   rate, HEALTH_TREND against the last score and the account's own trend.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import sqlalchemy as sa

from propensity.db import Database
from propensity.features import TrainingSet, build_training_set
from propensity.modeling import BinaryModel, FeatureSpec, train_binary, train_regression
from propensity.modeling.naive import health_trend_naive
from propensity.models import Tenant
from propensity.narratives.facts import rank_drivers

NO_EFFECT = ("industry", "region", "arr", "employee_count", "seats_purchased", "csm_owner")


def named_counts(model: BinaryModel, training: TrainingSet) -> tuple[int, dict[str, int]]:
    newest = (training.snapshot_times == training.snapshot_times.max()).to_numpy()
    frame = training.frame[newest].reset_index(drop=True)
    explanation = model.explain(frame)
    named = dict.fromkeys(NO_EFFECT, 0)
    for i in range(len(frame)):
        risks, strengths = rank_drivers(explanation.row(i)["contributions"], bad_sign=1)
        for driver in risks[:3] + strengths[:3]:
            if driver.name in named:
                named[driver.name] += 1
    return len(frame), named


def churn(training: TrainingSet, specs: list[FeatureSpec]) -> None:
    runs: dict[str, dict[str, Any]] = {
        "before (floors in rows)": {
            "tree_overrides": {"min_child_weight": 5.0},
            "search": "auto",
        },
        "now (floors in accounts)": {"search": "auto"},
    }
    print("| account churn | family | ROC-AUC | Brier | brier_skill | no-effect ranks | named |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, kwargs in runs.items():
        model = train_binary(
            frame=training.frame,
            labels=training.labels,  # type: ignore[arg-type]
            features=specs,
            times=training.snapshot_times,
            seed=0,
            **kwargs,
        )
        ranked = list(model.importance)
        ranks = {f: ranked.index(f) + 1 for f in NO_EFFECT if f in ranked}
        rows, named = named_counts(model, training)
        m = model.metrics
        print(
            f"| {name} | {model.family} | {m['roc_auc']:.4f} | {m['brier']:.5f} "
            f"| {m['brier_skill']:.3f} | {ranks} | {named} of {rows} |"
        )


def health(training: TrainingSet, specs: list[FeatureSpec]) -> None:
    assert training.targets is not None
    model = train_regression(
        frame=training.frame,
        targets=training.targets,
        features=specs,
        times=training.snapshot_times,
        seed=0,
        naive=health_trend_naive(training.frame, training.current_scores),
    )
    m = model.metrics
    print(
        f"HEALTH_TREND ({model.family}): MAE {m['mae']:.3f}; "
        f"last score {m['naive_last_score_mae']:.3f} "
        f"(skill {m['mae_skill_vs_last_score']:.3f}); own trend {m['naive_linear_trend_mae']:.3f} "
        f"(skill {m['mae_skill_vs_linear_trend']:.3f}); mean {m['baseline_mae']:.3f} "
        f"(skill {m['mae_skill']:.3f}); {m['rows']} test rows, {m['evaluated_on']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--tenant", default="demo")
    args = parser.parse_args()
    database = Database(args.database)
    with database.system_session() as session:
        tenant_id = session.scalar(sa.select(Tenant.id).where(Tenant.slug == args.tenant))
    assert tenant_id is not None, f"no tenant {args.tenant!r}"
    with database.tenant_session(tenant_id) as session:
        accounts = build_training_set(session, prediction_type="CHURN", kind="account")
        trend = build_training_set(session, prediction_type="HEALTH_TREND")
    for training, run in ((accounts, churn), (trend, health)):
        specs = [FeatureSpec.from_dict(d.to_dict()) for d in training.definitions]
        print(f"{training.summary.rows} rows, {training.summary.entities} entities")
        run(training, specs)
    print(f"positives in account churn: {float(np.mean(accounts.labels)):.2%}")


if __name__ == "__main__":
    main()
