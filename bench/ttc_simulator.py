"""Time-to-close intervals on simulated leads: the demo's data, its time-split test.

    .venv/bin/python bench/ttc_simulator.py --database sqlite:////path/to/demo.db

Reads a database that `propensity demo` filled (the simulator's leads, docs/simulator.md),
builds the TIME_TO_CLOSE training set exactly as training does, and trains `train_survival`
with its default time split (newest 20% of snapshot rows are the test). Reports, on the test
rows: Harrell's C, and the p10-p90 coverage both censoring-aware (Kaplan-Meier of the
probability-integral transform, modeling/intervals.py) and on closed leads only, for the
served interval (recalibrated levels) and for the nominal 0.1 / 0.9 levels of the same model.

The simulator's truth here is its generative model: every lead that converts does so at
`median[config] x timeline factor x e^(-0.35 u) x e^(0.45 e)` days; leads lost or still open at
the end of the data are censored, which is why coverage on closed leads only is biased toward
short durations (a time split's test rows have had the least time to close).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import sqlalchemy as sa

from propensity.db import Database
from propensity.features import build_training_set
from propensity.modeling import FeatureSpec, train_survival
from propensity.modeling.encoding import timestamps_ns
from propensity.modeling.intervals import censored_coverage
from propensity.modeling.metrics import concordance_index
from propensity.modeling.splits import DEFAULT_TEST_FRACTION, holdout_split
from propensity.modeling.survival import MIN_DURATION_DAYS, probability_transform
from propensity.models import Tenant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="SQLAlchemy URL of a demo database")
    parser.add_argument("--tenant", default="demo")
    args = parser.parse_args()
    database = Database(args.database)
    with database.system_session() as session:
        tenant_id = session.scalar(sa.select(Tenant.id).where(Tenant.slug == args.tenant))
    assert tenant_id is not None, f"no tenant {args.tenant!r}"
    with database.tenant_session(tenant_id) as session:
        training = build_training_set(session, prediction_type="TIME_TO_CLOSE")
    assert training.durations_days is not None and training.observed is not None
    specs = [FeatureSpec.from_dict(d.to_dict()) for d in training.definitions]
    started = time.perf_counter()
    model = train_survival(
        frame=training.frame,
        durations_days=training.durations_days,
        observed=training.observed,
        features=specs,
        times=training.snapshot_times,
        seed=0,
    )
    seconds = time.perf_counter() - started
    durations = np.maximum(np.asarray(training.durations_days, dtype=float), MIN_DURATION_DAYS)
    events = np.asarray(training.observed, dtype=bool)
    split = holdout_split(
        n_rows=len(durations),
        strata=events.astype(float),
        times_ns=timestamps_ns(training.snapshot_times.reset_index(drop=True)),
        test_fraction=DEFAULT_TEST_FRACTION,
        seed=0,
    )
    test = split.test
    frame = training.frame.reset_index(drop=True).iloc[test].reset_index(drop=True)
    location = model.margin(frame) + model.shift
    u = probability_transform(location, model.scale, durations[test])
    e = events[test]
    print(
        f"rows {len(durations)} ({events.mean():.1%} closed), test {len(test)} "
        f"({e.mean():.1%} closed), split {split.method}, trained in {seconds:.1f} s"
    )
    print(f"C-index (test): {concordance_index(durations[test], e, np.exp(location)):.4f}")
    print("| interval levels | coverage (censoring-aware) | closed leads only |")
    print("| --- | --- | --- |")
    for name, (low, high) in (("served", model.levels), ("nominal 0.1 / 0.9", (0.1, 0.9))):
        inside = (u >= low) & (u <= high)
        aware = censored_coverage(u, e, low, high)
        print(f"| {name} ({low:.3f}, {high:.3f}) | {aware:.3f} | {float(inside[e].mean()):.3f} |")
    print(f"model metrics: {model.metrics}")


if __name__ == "__main__":
    main()
