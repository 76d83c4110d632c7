"""CPU per single-entity answer in-process: this tree against a baseline commit, interleaved.

    .venv/bin/python bench/serving_cpu.py --home /tmp/load-home --baseline 2ae4853 --rounds 3

Each round runs, in fresh processes and alternating between the two sources, `serve()` on
the same entities of a demo home one at a time: forced (features from the online state, the
model, its exact explanation, the narrative, stored and committed), cached (the stored
answer found valid), and lead (a lead's conversion score, forced, as `forced` is for an
account's churn). Figures are process CPU milliseconds per answer, the median of each
process's three passes over the entities; the summary is the median over rounds and the
ratio this tree / baseline. No HTTP: `bench/load.py` measures the server.

The baseline's `src/` is exported with `git archive` and put first on the path of its
processes. Both read the same home (the forced passes write predictions to it, as a server
would), so give a copy; or give the baseline its own copy (`--baseline-home`) when the two
store the online feature states in different formats, each home's states built by its code.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORKER = r"""
import json, sys, time, statistics
from datetime import UTC, datetime
import sqlalchemy as sa
from propensity.db import Database
from propensity.models import Customer, Lead
from propensity.serving.service import serve
from propensity.settings import Settings
from propensity.vocabulary import PredictionType

home, mode, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
settings = Settings(_env_file=None, home=home)
database = Database(settings.resolved_database_url)
with database.system_session() as session:
    tenant = session.execute(sa.text("SELECT id FROM tenants ORDER BY id LIMIT 1")).scalar()
lead = mode == "lead"
with database.tenant_session(tenant) as session:
    wanted = (
        sa.select(Lead.id) if lead else sa.select(Customer.id).where(Customer.kind == "account")
    )
    ids = list(session.scalars(wanted.order_by(wanted.selected_columns[0]).limit(count)))
kind, population = (
    (PredictionType.CONVERSION, "lead") if lead else (PredictionType.CHURN, "account")
)

def one_pass():
    for entity in ids:
        with database.request_session(tenant) as session:
            serve(session, prediction_type=kind, population=population,
                  entity_id=entity, now=datetime.now(UTC), settings=settings,
                  force=mode != "cached", spend=lambda n: None)

one_pass()  # warm: artifacts loaded, caches filled, every entity answered once
passes = []
for _ in range(3):
    started = time.process_time()
    one_pass()
    passes.append((time.process_time() - started) * 1000 / len(ids))
print(json.dumps({"ms": statistics.median(passes), "passes": passes}))
"""


def export(commit: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def measure(source: Path, home: Path, mode: str, count: int) -> float:
    result = subprocess.run(
        [sys.executable, "-c", WORKER, str(home), mode, str(count)],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(source), "PATH": "/usr/bin:/bin"},
    )
    return float(json.loads(result.stdout.strip().splitlines()[-1])["ms"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="a demo home (a copy)")
    parser.add_argument("--baseline", required=True, help="commit to compare against")
    parser.add_argument(
        "--baseline-home",
        type=Path,
        help="the baseline's own copy of the home, when the stored feature states' format "
        "changed between the two (default: --home)",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--accounts", type=int, default=150, help="entities per pass")
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--modes", nargs="+", choices=("forced", "cached", "lead"), default=["forced", "cached"]
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        baseline = export(args.baseline, Path(folder))
        sources = {"baseline": baseline, "this tree": ROOT / "src"}
        homes = {"baseline": args.baseline_home or args.home, "this tree": args.home}
        runs: dict[str, dict[str, list[float]]] = {m: {k: [] for k in sources} for m in args.modes}
        for round_number in range(args.rounds):
            for mode in args.modes:
                for name, source in sources.items():
                    ms = measure(source, homes[name], mode, args.accounts)
                    runs[mode][name].append(ms)
                    print(f"round {round_number + 1} {mode:6s} {name:9s} {ms:6.2f} ms CPU")
    print(f"\n{'answer':8s} {'baseline':>9s} {'this tree':>9s} {'ratio':>6s}")
    summary = {}
    for mode, by_source in runs.items():
        base, mine = (statistics.median(by_source[k]) for k in ("baseline", "this tree"))
        summary[mode] = {"baseline": base, "this_tree": mine, "ratio": mine / base}
        print(f"{mode:8s} {base:9.2f} {mine:9.2f} {mine / base:6.2f}")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
