"""Throughput of the event import on SQLite (not a test; run by hand).

    .venv/bin/python -m tests.crm.bench_events [N_EVENTS] [--csv] [--shuffled]

Builds a fresh migrated SQLite database in a temporary folder (or uses
PROPENSITY_BENCH_DATABASE_URL, e.g. a PostgreSQL database), imports 10,000
customers, then N events (default 1,000,000) as a DataFrame (the demo's path) or
through a CSV file (the CLI's path), and prints events per second for the first import
and for a re-import of the same rows (all updates).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

import propensity.models  # noqa: F401 - registers every table on Base.metadata
from propensity.crm.service import import_file, import_frame
from propensity.db import Database
from propensity.migrate import upgrade
from propensity.tenancy.service import create_tenant


def events_frame(n: int, customers: int, *, seed: int = 7, shuffled: bool = False) -> pd.DataFrame:
    """A year of events for `customers` customers: in time order with increasing ids,
    as an event log exports them, or (`shuffled`) in random order, the worst case for
    the indexes."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2023-01-01T00:00:00")
    seconds = rng.integers(0, 365 * 86400, n)
    if not shuffled:
        seconds.sort()
    types = np.array(["login", "page_view", "support_ticket", "payment", "email_open"])
    kind = types[rng.integers(0, len(types), n)]
    tickets = kind == "support_ticket"
    ticket_id = np.full(n, None, dtype=object)
    ticket_id[tickets] = [f"T-{i}" for i in range(int(tickets.sum()))]
    # The same dtypes as the demo simulator's frames: str columns, UTC timestamps.
    return pd.DataFrame(
        {
            "event_id": pd.Series([f"ev_{i:08d}" for i in range(n)], dtype="str"),
            "customer_id": pd.Series(
                [f"c_{i:05d}" for i in rng.integers(0, customers, n)], dtype="str"
            ),
            "type": pd.Series(kind, dtype="str"),
            "occurred_at": pd.Series(start + seconds.astype("timedelta64[s]")).dt.tz_localize(
                "UTC"
            ),
            "value": np.round(rng.gamma(2.0, 20.0, n), 2),
            "ticket_id": pd.Series(ticket_id, dtype="str"),
        }
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1_000_000
    via_csv = "--csv" in sys.argv
    shuffled = "--shuffled" in sys.argv
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("PROPENSITY_BENCH_DATABASE_URL") or (
            f"sqlite:///{Path(folder) / 'bench.db'}"
        )
        upgrade(url)
        database = Database(url)
        with database.system_session() as session:
            tenant_id = create_tenant(session, slug=f"bench-{uuid.uuid4().hex[:8]}").id
        customers = pd.DataFrame({"customer_id": [f"c_{i:05d}" for i in range(10_000)]})
        frame = events_frame(n, len(customers), shuffled=shuffled)
        csv_path = Path(folder) / "events.csv"
        if via_csv:
            frame.to_csv(csv_path, index=False)
        with database.tenant_session(tenant_id) as session:
            import_frame(session, kind="customers", frame=customers)
        for attempt in ("first import", "re-import"):
            started = time.perf_counter()
            with database.tenant_session(tenant_id) as session:
                if via_csv:
                    result = import_file(session, kind="events", path=csv_path)
                else:
                    result = import_frame(session, kind="events", frame=frame)
            elapsed = time.perf_counter() - started
            source = ("CSV file" if via_csv else "DataFrame") + (", shuffled" if shuffled else "")
            print(
                f"{attempt} ({source}): {result.total:,} events "
                f"in {elapsed:.1f} s = {result.total / elapsed:,.0f} events/s "
                f"(inserted {result.inserted:,}, updated {result.updated:,})"
            )
        database.dispose()


if __name__ == "__main__":
    main()
