"""Server-side render time of every dashboard page on a demo home (issue: median <= 150 ms on
the demo tenant), with GET /api/health as the baseline measured in the same run.

The app runs in this process (Starlette's TestClient: no socket, no browser), signed in with
the session cookie of the benchmark's own admin user; each page is requested --repeats times,
interleaved with the other pages, after --warmup untimed requests (the first view of an
account may score it, and the models load once). Every figure is a median over repeats. A
page that does not answer 200 is reported and makes the run fail (exit status 1).

    PROPENSITY_HOME=/tmp/demo-home .venv/bin/python bench/pages.py --repeats 20
    .venv/bin/python bench/pages.py --home /tmp/demo-home --json /tmp/pages.json
    .venv/bin/python bench/pages.py --home /tmp/new-home --build   # the demo first, 2-3 min
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from load_server import DEMO_TENANT, SERVER_ENV, bench_token, prepare_home

BENCH_ADMIN = "pages-bench@demo.local"
TARGET_MS = 150.0
PUBLIC = {"login"}


def _ids(database: Any, tenant_id: int) -> dict[str, int | None]:
    """Entities the detail pages show: the riskiest scored account, a lead, a model."""
    from propensity.models import Customer, Lead, ModelVersion, Prediction

    with database.tenant_session(tenant_id) as session:
        account = session.scalar(
            sa.select(Prediction.customer_id)
            .join(Customer, Customer.id == Prediction.customer_id)
            .where(Customer.kind == "account", Prediction.status == "ACTIVE")
            .order_by(Prediction.probability.desc())
            .limit(1)
        )
        lead = session.scalar(sa.select(Lead.id).order_by(Lead.id).limit(1))
        model = session.scalar(
            sa.select(ModelVersion.id).where(ModelVersion.status == "active").limit(1)
        )
    return {"account": account, "lead": lead, "model": model}


def pages(ids: dict[str, int | None]) -> dict[str, str]:
    listed = {
        "health (baseline)": "/api/health",
        "login": "/login",
        "accounts": "/accounts",
        "accounts page 3": "/accounts?page=3",
        "accounts filtered": "/accounts?risk=low&renewal=180",
        "leads": "/leads",
        "subscribers": "/subscribers",
        "models": "/models",
        "data": "/data",
        "data: imports": "/data/imports",
        "data: jobs": "/data/jobs",
        "data: webhooks": "/data/webhooks",
        "data: keys": "/data/keys",
    }
    if ids["account"]:
        listed["account 360"] = f"/accounts/{ids['account']}"
    if ids["lead"]:
        listed["lead"] = f"/leads/{ids['lead']}"
    if ids["model"]:
        listed["model"] = f"/models/{ids['model']}"
    return listed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("PROPENSITY_HOME", "var")))
    parser.add_argument("--build", action="store_true", help="run `propensity demo` first")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args(argv)

    os.environ.update({"PROPENSITY_HOME": str(args.home), **SERVER_ENV})
    prepare_home(args.home, build=args.build, source=None)

    from fastapi.testclient import TestClient

    from propensity.app import create_app
    from propensity.db import Database
    from propensity.models import Role
    from propensity.settings import Settings
    from propensity.tenancy.service import get_tenant

    settings = Settings(home=args.home, database_url=None)
    database = Database(settings.resolved_database_url)
    with database.system_session() as session:
        tenant = get_tenant(session, slug_or_id=DEMO_TENANT)
        tenant_id = tenant.id
        token = bench_token(
            session, settings=settings, tenant=tenant, email=BENCH_ADMIN, role=Role.ADMIN
        )
    targets = pages(_ids(database, tenant_id))
    timings: dict[str, list[float]] = {name: [] for name in targets}
    statuses: dict[str, int] = {}
    app = create_app(settings, database)
    with TestClient(app, follow_redirects=False) as client, TestClient(app) as signed_out:
        client.cookies.set("token", token)

        def get(name: str, path: str) -> int:
            # The login page is measured as a visitor sees it (signed in, it redirects).
            return (signed_out if name in PUBLIC else client).get(path).status_code

        for _ in range(args.warmup):
            for name, path in targets.items():
                statuses[name] = get(name, path)
        for _ in range(args.repeats):
            for name, path in targets.items():
                started = time.perf_counter()
                statuses[name] = get(name, path)
                timings[name].append((time.perf_counter() - started) * 1000)
    database.dispose()

    baseline = statistics.median(timings["health (baseline)"])
    rows = []
    for name, path in targets.items():
        values = sorted(timings[name])
        median = statistics.median(values)
        rows.append(
            {
                "page": name,
                "path": path,
                "status": statuses[name],
                "median_ms": round(median, 1),
                "p90_ms": round(values[min(len(values) - 1, int(0.9 * len(values)))], 1),
                "x_health": round(median / baseline, 1) if baseline else None,
                "within_target": median <= TARGET_MS,
            }
        )
    print(f"{'page':<20} {'status':>6} {'median ms':>10} {'p90 ms':>8} {'x health':>9}")
    for row in rows:
        print(
            f"{row['page']:<20} {row['status']:>6} {row['median_ms']:>10.1f} "
            f"{row['p90_ms']:>8.1f} {row['x_health']:>9}"
        )
    failed = [r["page"] for r in rows if r["status"] != 200]
    slow = [r["page"] for r in rows if not r["within_target"]]
    print(f"\nrepeats {args.repeats}, target median <= {TARGET_MS:.0f} ms; slow: {slow or 'none'}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "date": datetime.now(UTC).isoformat(timespec="seconds"),
                    "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                    "repeats": args.repeats,
                    "rows": rows,
                },
                indent=2,
            )
        )
    if failed:
        print(f"pages that did not answer 200: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
