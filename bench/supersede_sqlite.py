"""What the supersede UPDATE and the INSERT of a batch's predictions cost SQLite itself.

    .venv/bin/python bench/supersede_sqlite.py --db /tmp/copy-of-a-batch-home.db --mode before
    .venv/bin/python bench/supersede_sqlite.py --db /tmp/copy-of-a-batch-home.db --mode partial

Give a copy of a `bench/batch_score.py` home's database (it is changed: indexes are added
or dropped). The newest run's CONVERSION predictions are read back, then, three times, in
one transaction rolled back after: every lead's ACTIVE prediction is superseded (the UPDATE
by IN lists of 2,000 ids, as record_predictions does) and the rows are inserted again in one
executemany. Only the DBAPI, so the figures are SQLite's own.

Modes, each the statement and indexes of one design:
- before: the (tenant, type, lead, time) index, with `coalesce(status, '') = 'ACTIVE'` so
  that the (tenant, type, status) index does not apply (the statement before migration 0015);
- partial: the partial index of ACTIVE predictions by lead, named with INDEXED BY, as
  record_predictions does on SQLite since migration 0015;
- full: a (tenant, type, lead, status) index over every row instead, with a bound status.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import time

INDEXES = {
    "partial": "CREATE INDEX IF NOT EXISTS ix_predictions_active_lead ON predictions "
    "(tenant_id, prediction_type, lead_id) WHERE status = 'ACTIVE' AND lead_id IS NOT NULL",
    "full": "CREATE INDEX IF NOT EXISTS ix_bench_lead_status ON predictions "
    "(tenant_id, prediction_type, lead_id, status)",
}
UPDATES = {
    "before": "coalesce(status, '') = 'ACTIVE'",
    "partial": "status = 'ACTIVE'",
    "full": "status = ?",
}
CHUNK = 2000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--mode", choices=sorted(UPDATES), required=True)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    db = sqlite3.connect(args.db, isolation_level=None)
    db.execute("PRAGMA foreign_keys = ON")
    for mode, ddl in INDEXES.items():
        name = ddl.split(" ON ")[0].split()[-1]
        db.execute(ddl if mode == args.mode else f"DROP INDEX IF EXISTS {name}")
    columns = [row[1] for row in db.execute("PRAGMA table_info(predictions)") if row[1] != "id"]
    newest = db.execute(
        "SELECT max(predicted_at) FROM predictions WHERE prediction_type = 'CONVERSION'"
    ).fetchone()[0]
    rows = db.execute(
        f"SELECT {', '.join(columns)} FROM predictions WHERE predicted_at = ?", (newest,)
    ).fetchall()
    history = db.execute("SELECT count(*) FROM predictions").fetchone()[0]
    tenant = rows[0][columns.index("tenant_id")]
    leads = [row[columns.index("lead_id")] for row in rows]
    insert = (
        f"INSERT INTO predictions ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    status = ("ACTIVE",) if args.mode == "full" else ()

    def update(ids: list[int]) -> tuple[str, tuple[object, ...]]:
        marks = ", ".join("?" * len(ids))
        hint = " INDEXED BY ix_predictions_active_lead" if args.mode == "partial" else ""
        sql = (
            f"UPDATE predictions{hint} SET status = 'SUPERSEDED' WHERE tenant_id = ? AND "
            f"prediction_type = 'CONVERSION' AND lead_id IN ({marks}) AND {UPDATES[args.mode]}"
        )
        return sql, (tenant, *ids, *status)

    plan = db.execute("EXPLAIN QUERY PLAN " + update(leads[:2])[0], update(leads[:2])[1])
    print(f"{len(rows):,} rows of {history:,}; plan: {plan.fetchall()[-1][-1]}")
    updates, inserts = [], []
    for _ in range(args.repeats):
        db.execute("BEGIN")
        started = time.perf_counter()
        for start in range(0, len(leads), CHUNK):
            db.execute(*update(leads[start : start + CHUNK]))
        updates.append(time.perf_counter() - started)
        started = time.perf_counter()
        db.executemany(insert, rows)
        inserts.append(time.perf_counter() - started)
        db.execute("ROLLBACK")
    print(
        f"{args.mode}: UPDATE {' / '.join(f'{s:.2f}' for s in updates)} s "
        f"(median {statistics.median(updates):.2f}), "
        f"INSERT {' / '.join(f'{s:.2f}' for s in inserts)} s "
        f"(median {statistics.median(inserts):.2f})"
    )


if __name__ == "__main__":
    main()
