"""Speed of the feature builder on the demo's data (not a test; run by hand).

    .venv/bin/python -m tests.features.bench_features [DATABASE_URL TENANT_ID]

Without arguments: simulates the demo tenant at its default size (seed 42, end 2025-06-01),
imports it into a fresh SQLite database in a temporary folder (about 40 s), then times each
training set and scoring frame the demo builds, each once, in this process. With arguments:
times the builds on an existing database and tenant.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

import propensity.models  # noqa: F401 - registers every table on Base.metadata
from propensity.db import Database
from propensity.features import build_scoring_frame, build_training_set, lead_feature_groups
from propensity.migrate import upgrade
from propensity.models import Lead
from propensity.simulator import SimulationConfig, simulate
from propensity.tenancy.service import create_tenant
from tests.features.helpers import load_simulation

END = dt.date(2025, 6, 1)
AS_OF = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def demo_database(folder: Path) -> tuple[Database, int]:
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    database = Database(url)
    with database.system_session() as session:
        tenant = create_tenant(session, slug="demo").id
    started = time.perf_counter()
    load_simulation(database, tenant, simulate(SimulationConfig(seed=42, end=END)))
    print(f"simulate + import: {time.perf_counter() - started:.1f} s")
    return database, tenant


def run(database: Database, tenant: int) -> None:
    builds: list[tuple[str, Callable[[Any], Any]]] = [
        ("CHURN subscriber training", lambda s: build_training_set(
            s, prediction_type="CHURN", kind="subscriber")),
        ("CHURN subscriber scoring (all alive)", lambda s: build_scoring_frame(
            s, prediction_type="CHURN", kind="subscriber", as_of=AS_OF)),
        ("CHURN account training", lambda s: build_training_set(
            s, prediction_type="CHURN", kind="account")),
        ("CHURN account scoring", lambda s: build_scoring_frame(
            s, prediction_type="CHURN", kind="account", as_of=AS_OF)),
        ("HEALTH_TREND training", lambda s: build_training_set(
            s, prediction_type="HEALTH_TREND")),
        ("CONVERSION training", lambda s: build_training_set(
            s, prediction_type="CONVERSION")),
        ("TIME_TO_CLOSE training", lambda s: build_training_set(
            s, prediction_type="TIME_TO_CLOSE")),
        ("CONVERSION scoring (open leads)", lambda s: build_scoring_frame(
            s, prediction_type="CONVERSION", as_of=AS_OF)),
        ("lead features of one lead", lambda s: lead_feature_groups(
            s, lead_id=s.scalar(sa.select(sa.func.min(Lead.id))), as_of=AS_OF)),
    ]  # fmt: skip
    total = 0.0
    for name, build in builds:
        with database.tenant_session(tenant) as session:
            started = time.perf_counter()
            result = build(session)
            took = time.perf_counter() - started
        total += took
        shape = getattr(getattr(result, "frame", None), "shape", "")
        print(f"{name:<40} {took:6.2f} s  {shape}")
    print(f"{'total':<40} {total:6.2f} s")


def main() -> None:
    if len(sys.argv) == 3:
        run(Database(sys.argv[1]), int(sys.argv[2]))
        return
    with tempfile.TemporaryDirectory() as folder:
        database, tenant = demo_database(Path(folder))
        run(database, tenant)
        database.dispose()


if __name__ == "__main__":
    main()
