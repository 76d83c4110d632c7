"""Time-to-close intervals on simulated leads: the demo's data, its time-split test.

    .venv/bin/python bench/ttc_simulator.py --database sqlite:////path/to/demo.db
        [--follow-up-days 365] [--json OUT]

Reads a database that `propensity demo` filled (the simulator's leads, docs/simulator.md),
builds the TIME_TO_CLOSE training set exactly as training does (with the lost/open distinction,
features/snapshots.py) and trains `train_survival` as the training service does, with its
default time split (newest 20% of snapshot rows are the test). Methods, all on the same rows:

  propensity      the served model: a mixture (modeling/cure.py), P(close ever) x time given
                  close, lost leads not at risk of closing
  propensity-aft  the model before the mixture: one AFT with lost and open leads censored
  cox, kaplan-meier    ttc_baselines.py, on the mixture's design matrix (median-imputed,
                  standardised), lost and open leads censored

What "coverage" means. The served p10-p90 interval is of the time to close of a lead that
closes: a lead closed lost never closes and is outside the question (it is excluded), and a lead
still open may close later. On the test rows, u = F_i(days) of the time-given-close
distribution; closed leads are events at u, open leads are censored at u and count with their
posterior probability of closing at all, w = pi S / (pi S + (1 - pi) G) (SurvivalModel.
event_weights, modeling/cure_weights.py; G: how likely a lead that never closes is to be still
unlost), in a weighted Kaplan-Meier estimate of P(p10 <= T <= p90 | the lead closes)
(intervals.py). The weights are the model's own, so the number is as good as pi is
calibrated: the bench prints P(close within 90 days) against what happened (Brier, ECE, mean
predicted vs observed) on the same rows. The AFT, Cox and Kaplan-Meier describe everyone's
time to close (a lead that never closes has an infinite one), so for them u is censored for
every lead that has not closed, lost ones included: the censoring-aware coverage as flchain
measures it. "closed leads only" is the plain share of test closings inside each method's
interval, which leans toward short closings (the test rows have had the least time to close).

A check that does not rest on the model's weights (--follow-up-days F): train both Propensity
models on the data as they stood F days before the end, take their time-split test rows and
judge them by what happened up to the real end, F more days later: most closings of those rows
are then observed, so "closed leads only" is nearly unbiased, and the weighted estimate can be
compared with it. It also lists, per value of --by (the simulator's `timeline`), the share of
those closings below p10 and above p90.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from ttc_baselines import coverage, cox_u, km_u, standardise

from propensity.db import Database
from propensity.features import TrainingSet, build_training_set
from propensity.modeling import FeatureSpec, SurvivalModel, train_survival
from propensity.modeling.encoding import timestamps_ns
from propensity.modeling.metrics import concordance_index
from propensity.modeling.splits import DEFAULT_TEST_FRACTION, holdout_split
from propensity.modeling.survival import MIN_DURATION_DAYS, probability_transform
from propensity.modeling.survival_calibration import within_horizon_metrics
from propensity.models import Lead, Tenant

LOW, HIGH = 0.1, 0.9


def train(training: TrainingSet, *, mixture: bool) -> tuple[SurvivalModel, float]:
    assert training.durations_days is not None and training.observed is not None
    started = time.perf_counter()
    model = train_survival(
        frame=training.frame,
        durations_days=training.durations_days,
        observed=training.observed,
        lost=training.lost if mixture else None,
        horizon_days=training.summary.horizon_days,
        features=[FeatureSpec.from_dict(d.to_dict()) for d in training.definitions],
        times=training.snapshot_times,
        seed=0,
    )
    return model, time.perf_counter() - started


def test_rows(training: TrainingSet) -> np.ndarray:
    assert training.observed is not None
    return holdout_split(
        n_rows=len(training.frame),
        strata=np.asarray(training.observed, dtype=float),
        times_ns=timestamps_ns(training.snapshot_times.reset_index(drop=True)),
        test_fraction=DEFAULT_TEST_FRACTION,
        seed=0,
    ).test


def judge(
    model: SurvivalModel,
    frame: pd.DataFrame,
    d: np.ndarray,
    e: np.ndarray,
    lost: np.ndarray,
    horizon: float,
) -> dict[str, Any]:
    """The model on rows with these outcomes (days from the snapshot, closed, lost)."""
    location = model.margin(frame) + model.shift
    u = probability_transform(location, model.scale, d)
    within = model.probability_within(frame, horizon)
    mixture = model.incidence is not None
    weights = model.event_weights(frame, d, e, lost) if mixture else None
    median = np.exp(location)
    return {
        "c_index": concordance_index(d, e, -within if mixture else median),
        **coverage(u, e, *model.levels, weights),
        "median_abs_error_days": float(np.median(np.abs(median[e] - d[e]))),
        **within_horizon_metrics(within, d, e, lost, horizon),
    }


def baselines(
    model: SurvivalModel,
    training: TrainingSet,
    dev: np.ndarray,
    test: np.ndarray,
    horizon: float,
) -> dict[str, dict[str, Any]]:
    assert training.durations_days is not None and training.observed is not None
    assert training.lost is not None
    d = np.maximum(np.asarray(training.durations_days, dtype=float), MIN_DURATION_DAYS)
    e, lost = np.asarray(training.observed, dtype=bool), np.asarray(training.lost, dtype=bool)
    frame = training.frame.reset_index(drop=True)
    started = time.perf_counter()
    x_dev, x_test = standardise(
        model.matrix(frame.iloc[dev].reset_index(drop=True)),
        model.matrix(frame.iloc[test].reset_index(drop=True)),
    )
    lp, u_of = cox_u(x_dev, d[dev], e[dev], x_test)
    seconds = time.perf_counter() - started
    out = {
        "cox": {
            "c_index": concordance_index(d[test], e[test], -lp),
            **coverage(u_of(d[test]), e[test], LOW, HIGH),
            **within_horizon_metrics(
                u_of(np.full(len(test), horizon)), d[test], e[test], lost[test], horizon
            ),
            "fit_seconds": seconds,
        }
    }
    u_km = km_u(d[dev], e[dev], d[test])
    flat = km_u(d[dev], e[dev], np.full(len(test), horizon))
    out["kaplan-meier"] = {
        "c_index": concordance_index(d[test], e[test], np.zeros(len(test))),
        **coverage(u_km, e[test], LOW, HIGH),
        **within_horizon_metrics(flat, d[test], e[test], lost[test], horizon),
        "fit_seconds": 0.0,
    }
    return out


def outcomes_by(
    session: Any, training: TrainingSet, rows: np.ndarray, end: dt.datetime
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(days from each row's snapshot to its outcome, closed, lost) as known at `end`."""
    ids = [int(i) for i in training.entity_ids[rows]]
    found = {
        int(r.id): (r.converted_at, r.lost_at)
        for r in session.execute(
            sa.select(Lead.id, Lead.converted_at, Lead.lost_at).where(Lead.id.in_(ids))
        )
    }
    end_ts = pd.Timestamp(end)
    t = training.snapshot_times.reset_index(drop=True).iloc[rows]
    stop, closed, lost = [], [], []
    for lead, at in zip(ids, t, strict=True):
        converted_at, lost_at = (pd.Timestamp(v) if v else None for v in found[lead])
        is_closed = converted_at is not None and converted_at <= end_ts
        is_lost = not is_closed and lost_at is not None and lost_at <= end_ts
        when = converted_at if is_closed else (lost_at if is_lost else end_ts)
        assert when is not None
        stop.append((when - at).total_seconds() / 86400)
        closed.append(is_closed)
        lost.append(is_lost)
    return (
        np.maximum(np.asarray(stop), MIN_DURATION_DAYS),
        np.asarray(closed, dtype=bool),
        np.asarray(lost, dtype=bool),
    )


def tails_by(
    model: SurvivalModel, frame: pd.DataFrame, d: np.ndarray, e: np.ndarray, column: str
) -> dict[str, dict[str, float]]:
    """Closings below p10 and above p90 per value of `column` (closed leads only: with the
    follow-up check's long follow-up, nearly all of the closings)."""
    low, high = model.predict_interval(frame)
    values = frame[column].astype(str).to_numpy()
    out = {}
    print(f"\nclosings of the served model outside p10-p90, by {column}:")
    print(f"| {column} | closings | below p10 | above p90 |")
    print("| --- | --- | --- | --- |")
    for value in sorted(set(values[e])):
        rows = e & (values == value)
        below, above = float(np.mean(d[rows] < low[rows])), float(np.mean(d[rows] > high[rows]))
        out[value] = {"closings": int(rows.sum()), "below_p10": below, "above_p90": above}
        print(f"| {value} | {int(rows.sum())} | {below:.2f} | {above:.2f} |")
    return out


def print_table(title: str, results: dict[str, dict[str, Any]]) -> None:
    print(f"\n{title}")
    print(
        "| method | C-index | p10-p90 coverage (censoring-aware) | closed leads only | "
        "median abs error (days) | P(close in 90 d): Brier / ECE / predicted vs observed |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for name, r in results.items():
        bound = " (lower bound)" if r.get("lower_bound") else ""
        error = r.get("median_abs_error_days")
        print(
            f"| {name} | {r['c_index']:.4f} | {r['coverage']:.3f}{bound} "
            f"| {r['coverage_events_only']:.3f} "
            f"| {'' if error is None else f'{error:.1f}'} "
            f"| {r['within_horizon_brier']:.4f} / {r['within_horizon_ece']:.4f} / "
            f"{r['within_horizon_predicted']:.3f} vs {r['within_horizon_rate']:.3f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="SQLAlchemy URL of a demo database")
    parser.add_argument("--tenant", default="demo")
    parser.add_argument("--follow-up-days", type=int, default=365)
    parser.add_argument("--by", default="timeline", help="column to split the follow-up by")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    database = Database(args.database)
    with database.system_session() as session:
        tenant_id = session.scalar(sa.select(Tenant.id).where(Tenant.slug == args.tenant))
    assert tenant_id is not None, f"no tenant {args.tenant!r}"
    with database.tenant_session(tenant_id) as session:
        training = build_training_set(session, prediction_type="TIME_TO_CLOSE")
    assert training.durations_days is not None and training.observed is not None
    assert training.lost is not None
    horizon = float(training.summary.horizon_days or 90)
    d = np.maximum(np.asarray(training.durations_days, dtype=float), MIN_DURATION_DAYS)
    e, lost = np.asarray(training.observed, dtype=bool), np.asarray(training.lost, dtype=bool)
    test = test_rows(training)
    dev = np.setdiff1d(np.arange(len(d)), test)
    frame = training.frame.reset_index(drop=True).iloc[test].reset_index(drop=True)
    print(
        f"rows {len(d)} ({e.mean():.1%} closed, {lost.mean():.1%} lost, "
        f"{(~e & ~lost).mean():.1%} open at the end), test {len(test)} ({e[test].mean():.1%} "
        f"closed, {lost[test].mean():.1%} lost), horizon {horizon:g} days"
    )
    results: dict[str, dict[str, Any]] = {}
    models: dict[str, SurvivalModel] = {}
    for name, mixture in (("propensity", True), ("propensity-aft", False)):
        model, seconds = train(training, mixture=mixture)
        models[name] = model
        results[name] = {
            **judge(model, frame, d[test], e[test], lost[test], horizon),
            "levels": list(model.levels),
            "fit_seconds": seconds,
        }
        print(f"{name}: trained in {seconds:.1f} s, levels {model.levels}")
    results.update(baselines(models["propensity"], training, dev, test, horizon))
    print_table("Time-split test, outcomes as of the end of the data", results)
    report: dict[str, Any] = {"time_split": results}

    if args.follow_up_days > 0:
        assert training.summary.data_end is not None
        end = training.summary.data_end
        earlier = end - dt.timedelta(days=args.follow_up_days)
        with database.tenant_session(tenant_id) as session:
            past = build_training_set(session, prediction_type="TIME_TO_CLOSE", data_end=earlier)
            past_test = test_rows(past)
            later = outcomes_by(session, past, past_test, end)
        past_frame = past.frame.reset_index(drop=True).iloc[past_test].reset_index(drop=True)
        d2, e2, lost2 = later
        print(
            f"\ntrained on the data to {earlier:%Y-%m-%d}: {len(past.frame)} rows, test "
            f"{len(past_test)}; by {end:%Y-%m-%d}: {e2.mean():.1%} closed, {lost2.mean():.1%} "
            f"lost, {(~e2 & ~lost2).mean():.1%} still open (each followed "
            f"{d2[~e2 & ~lost2].min() if (~e2 & ~lost2).any() else 0:.0f}+ days)"
        )
        follow: dict[str, dict[str, Any]] = {}
        served: SurvivalModel | None = None
        for name, mixture in (("propensity", True), ("propensity-aft", False)):
            model, seconds = train(past, mixture=mixture)
            served = served or model
            follow[name] = {
                **judge(model, past_frame, d2, e2, lost2, horizon),
                "fit_seconds": seconds,
            }
        print_table(f"Trained {args.follow_up_days} days before the end, judged by the end", follow)
        report["follow_up"] = follow
        if served is not None and args.by in past_frame.columns:
            report["follow_up_by"] = tails_by(served, past_frame, d2, e2, args.by)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2, default=float))


if __name__ == "__main__":
    main()
