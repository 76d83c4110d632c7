"""Walk every endpoint of spec/lead-ml.md and spec/ml-platform.md against a running server
and check each answer against the document: one line per request (PASS/FAIL, method, path,
status, what was checked or what is wrong), then the counts. Exit status 1 if any failed.

    .venv/bin/python scripts/walk_surfaces.py --base-url http://127.0.0.1:8123 \\
        --api-key "$(cat key.txt)"            # an admin API key of the tenant

Needs a tenant with data and trained CONVERSION and TIME_TO_CLOSE lead models (the demo
tenant: `propensity demo`; `propensity apikey create --tenant demo --name walk --role admin`).
It trains two small models on the way (a created challenger and a retrain) and deletes them,
restores the ML configuration it changes and rolls back the A/B test it starts: run it on a
copy of the demo home if other people rely on the tenant's predictions.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import httpx
from walk_checks import Walker
from walk_lead_ml import LeadWalk
from walk_ml_platform import MlWalk, lead_ids_of
from walk_permissions import walk_permissions


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("PROPENSITY_API_KEY"),
        help="an admin API key or JWT of the tenant (default: $PROPENSITY_API_KEY)",
    )
    parser.add_argument("--tenant-id", help="sent as X-Tenant-ID when given")
    parser.add_argument(
        "--config-id", type=int, default=1, help="lead scoring configuration for lead-ml"
    )
    parser.add_argument(
        "--ml-config-id",
        type=int,
        default=3,
        help="configuration whose leads the ml-platform walk scores (the demo's real-estate one)",
    )
    parser.add_argument(
        "--train-timeout", type=float, default=900, help="seconds to wait for training jobs"
    )
    parser.add_argument("--only", choices=("lead-ml", "ml-platform"), help="walk one document")
    args = parser.parse_args(argv)
    if not args.api_key:
        parser.error("--api-key (or PROPENSITY_API_KEY) is required")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    headers = {"Authorization": f"Bearer {args.api_key}"}
    if args.tenant_id:
        headers["X-Tenant-ID"] = args.tenant_id
    started = time.monotonic()
    with httpx.Client(base_url=args.base_url, headers=headers, timeout=120) as client:
        walker = Walker(client)
        if args.only in (None, "lead-ml"):
            print(f"# spec/lead-ml.md, configuration {args.config_id}", flush=True)
            LeadWalk(walker, args.config_id).run()
        if args.only in (None, "ml-platform"):
            print(f"# spec/ml-platform.md, leads of configuration {args.ml_config_id}", flush=True)
            ranked = client.get(
                f"/api/lead-scoring/{args.ml_config_id}/ml/ranked-leads", params={"limit": 50}
            )
            leads = lead_ids_of(ranked.json()) if ranked.status_code == 200 else []
            if not leads:
                walker.fail("GET", "ranked-leads", f"no leads in configuration {args.ml_config_id}")
            else:
                MlWalk(walker, leads, train_timeout=args.train_timeout).run()
        print("# 403 for a viewer, both documents", flush=True)
        walk_permissions(walker, config_id=args.config_id)
    total, failed = len(walker.outcomes), walker.failed
    endpoints = {(o.method, o.path.split("?")[0]) for o in walker.outcomes}
    print(
        f"\n{total} requests to {len(endpoints)} distinct paths: {total - failed} passed, "
        f"{failed} failed ({time.monotonic() - started:.0f} s)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
