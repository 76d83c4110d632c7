"""Bounded HTTP load on 127.0.0.1 against the customer-success prediction endpoints.

Scenarios (issue: forced prediction >= 300 requests/s, p99 <= 25 ms at 200 requests/s;
cached read >= 1,500 requests/s, on two cores with two server workers):

    predict       POST /api/crm/accounts/{id}/ml/predict with forceRefresh, closed loop
    predict-open  the same at a fixed arrival rate (--rate), open loop
    predict-floor the same at 25 requests/s, the documents' own figure (the issue's floor)
    churn-risk    GET /api/crm/accounts/{id}/ml/churn-risk (cached), closed loop
    health        GET /api/health, closed loop: the baseline for throughput ratios
    health-open   GET /api/health at --rate, open loop: the baseline for latency ratios
    kpi-summary   GET /api/kpi/churn/summary, closed loop (authenticated, existing surface)
    jobs          GET /api/v1/jobs, closed loop (authenticated, existing surface)

Requests rotate over the demo tenant's accounts. A scenario set is run --repeats times,
interleaved, on one server; every figure is the median over repeats. Any non-2xx response
or transport error makes the run fail (exit status 1) after the table is printed.

    .venv/bin/python bench/load.py --home /tmp/load-home --repeats 3 --json /tmp/load.json
    .venv/bin/python bench/load.py --home /tmp/load-home --copy-from /tmp/demo5
    .venv/bin/python bench/load.py --home /tmp/new-home --build   # demo first, 2-3 min
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import uvloop
from load_client import Request, build
from load_runner import (
    Result,
    closed_loop,
    connections_per_worker,
    open_loop,
    prime,
    process_tree_cpu,
)
from load_server import (
    SERVER_ENV,
    Server,
    Target,
    bench_target,
    copy_home,
    export_source,
    prepare_home,
    running_server,
)

CS_PATH = "/api/crm/accounts/{id}/ml"
PREDICT_BODY = {"predictionType": "CHURN", "options": {"forceRefresh": True}}
# The documents' own figures, the issue's floor: 25 requests/s with p50 42 ms, p99 125 ms.
FLOOR_RATE = 25.0
ML_SCORE_PATH = "/api/ml/leads/{id}/score?explain=true&refresh=true"


@dataclass(frozen=True)
class Scenario:
    name: str
    open_loop: bool
    baseline: str
    make: Callable[[str, Target], list[Request]]
    # Requests sent once before the first repeat, untimed, over a few connections. All of
    # them for a cached read, so that it is measured with its cache filled (an account
    # without a valid prediction would be scored afresh); a few for forced predictions, so
    # that both workers have loaded the model before the clock runs, without the pile-up
    # of 16+ simultaneous first requests each loading it.
    prime: int = 0
    # Open loop only: a fixed arrival rate instead of --rate.
    rate: float | None = None


def _auth(target: Target) -> dict[str, str]:
    return {"Authorization": f"Bearer {target.token}", "X-Tenant-ID": str(target.tenant_id)}


def _per_account(method: str, suffix: str, body: object = None) -> Callable[..., list[Request]]:
    def make(base: str, target: Target) -> list[Request]:
        ids = list(target.account_ids)
        random.Random(7).shuffle(ids)
        path = CS_PATH + suffix
        return [build(base, method, path.format(id=i), _auth(target), body) for i in ids]

    return make


def _per_lead(path: str) -> Callable[..., list[Request]]:
    def make(base: str, target: Target) -> list[Request]:
        ids = list(target.lead_ids)
        random.Random(7).shuffle(ids)
        return [build(base, "GET", path.format(id=i), _auth(target)) for i in ids]

    return make


def _fixed(path: str, *, auth: bool) -> Callable[..., list[Request]]:
    def make(base: str, target: Target) -> list[Request]:
        return [build(base, "GET", path, _auth(target) if auth else {})]

    return make


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("health", False, "health", _fixed("/api/health", auth=False)),
        Scenario("health-open", True, "health-open", _fixed("/api/health", auth=False)),
        Scenario(
            "predict", False, "health", _per_account("POST", "/predict", PREDICT_BODY), prime=16
        ),
        Scenario(
            "predict-open",
            True,
            "health-open",
            _per_account("POST", "/predict", PREDICT_BODY),
            prime=16,
        ),
        Scenario(
            "predict-floor",
            True,
            "health-open",
            _per_account("POST", "/predict", PREDICT_BODY),
            prime=16,
            rate=FLOOR_RATE,
        ),
        Scenario("churn-risk", False, "health", _per_account("GET", "/churn-risk"), prime=10**6),
        # Issue 5: a fresh, explained lead score from the ML platform (refresh bypasses the
        # score cache, so every request scores, explains and stores).
        Scenario("ml-score", False, "health", _per_lead(ML_SCORE_PATH), prime=16),
        Scenario("ml-score-open", True, "health-open", _per_lead(ML_SCORE_PATH), prime=16),
        Scenario("kpi-summary", False, "health", _fixed("/api/kpi/churn/summary", auth=True)),
        Scenario("jobs", False, "health", _fixed("/api/v1/jobs", auth=True)),
    )
}
CUSTOMER_SUCCESS = [
    "health",
    "health-open",
    "predict",
    "predict-open",
    "predict-floor",
    "churn-risk",
]
EXISTING = ["health", "health-open", "kpi-summary", "jobs"]


def customer_success_served(base: str) -> bool:
    with urllib.request.urlopen(f"{base}/openapi.json", timeout=30) as response:
        paths = json.load(response)["paths"]
    # The path parameter's name is the router's choice; only the shape matters here.
    return all(
        any(p.startswith("/api/crm/accounts/{") and p.endswith(end) for p in paths)
        for end in ("/ml/predict", "/ml/churn-risk")
    )


def percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("inf")  # nothing answered in the window: slower than anything measured
    rank = max(0, min(len(sorted_values) - 1, round(q * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


def summarize(result: Result) -> dict[str, float | int]:
    # An open-loop request not answered by the hard limit is slower than any answered one.
    latencies = sorted(result.latencies) + [float("inf")] * result.unfinished
    answered = max(1, result.completed)  # CPU is sampled over the same window
    return {
        "rps": result.completed / result.seconds,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p90_ms": percentile(latencies, 0.90) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": (latencies[-1] if latencies else float("inf")) * 1000,
        "failures": result.failures,
        "unfinished": result.unfinished,
        "client_cpu_us": result.client_cpu / answered * 1e6,
        "server_cpu_ms": result.server_cpu / answered * 1000,
        "server_cores": result.server_cpu / result.seconds,
        "max_queue": result.max_queue,
        "spread_max_share": max(result.spread, default=0) / max(1, sum(result.spread)),
    }


def _answers_quickly(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/api/health", timeout=1) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


async def settle(server: Server, *, limit: float = 120.0) -> float:
    """Waits until the server is idle (under 5% of a core over half a second) and answers
    the health check within a second, so that requests a previous scenario left behind do
    not count against the next one. A server stalled on its connection pool is idle yet
    does not answer, hence both. Returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = process_tree_cpu(server.pid)
        await asyncio.sleep(0.5)
        idle = process_tree_cpu(server.pid) - before < 0.025
        if idle and await asyncio.to_thread(_answers_quickly, server.base):
            break
    return time.monotonic() - started


async def run_scenario(
    scenario: Scenario, server: Server, requests: list[Request], args: argparse.Namespace
) -> Result:
    if (waited := await settle(server)) > 5:
        print(f"  waited {waited:.0f} s for the server to finish earlier requests", flush=True)
    common = {
        "base": server.base,
        "client": args.client,
        "requests": requests,
        "warmup": args.warmup,
        "duration": args.duration,
    }
    cpu: list[tuple[float, float]] = []
    result_spread: dict[int, int] = {}

    async def sample_window() -> None:
        # CPU of both sides over the measured window only, not the warm-up or the drain.
        await asyncio.sleep(args.warmup)
        cpu.append((time.process_time(), process_tree_cpu(server.pid)))
        result_spread.update(connections_per_worker(server.pid, server.port))
        await asyncio.sleep(args.duration)
        cpu.append((time.process_time(), process_tree_cpu(server.pid)))

    sampler = asyncio.ensure_future(sample_window())
    if scenario.open_loop:
        rate = scenario.rate or args.rate
        result = await open_loop(rate=rate, connections=args.max_in_flight, **common)
    else:
        result = await closed_loop(connections=args.connections, **common)
    await sampler
    (client_start, server_start), (client_end, server_end) = cpu
    result.client_cpu = client_end - client_start
    result.server_cpu = server_end - server_start
    result.spread = sorted(result_spread.values(), reverse=True)
    return result


def machine() -> dict[str, object]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "loadavg_start": os.getloadavg(),
        "python": platform.python_version(),
        "versions": {
            name: metadata.version(name)
            for name in ("uvicorn", "fastapi", "starlette", "uvloop", "httptools", "sqlalchemy")
        },
        "commit": commit,
    }


def table(medians: dict[str, dict[str, float]], selected: list[str]) -> str:
    head = (
        f"{'scenario':<13} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'fail':>5} {'unfin':>5} {'x base':>7} {'srv ms/req':>10} "
        f"{'cli us/req':>10}"
    )
    rows = [head, "-" * len(head)]
    for name in selected:
        m, scenario = medians[name], SCENARIOS[name]
        base = medians.get(scenario.baseline)
        # Closed loop: throughput against the baseline's; open loop: p99 against the baseline's.
        ratio = float("nan")
        if base and name != scenario.baseline:
            ratio = m["p99_ms"] / base["p99_ms"] if scenario.open_loop else m["rps"] / base["rps"]
        rows.append(
            f"{name:<13} {m['rps']:>8.0f} {m['p50_ms']:>8.1f} {m['p90_ms']:>8.1f} "
            f"{m['p99_ms']:>8.1f} {m['max_ms']:>8.1f} {m['failures']:>5.0f} "
            f"{m['unfinished']:>5.0f} {ratio:>7.2f} "
            f"{m['server_cpu_ms']:>10.2f} {m['client_cpu_us']:>10.0f}"
        )
    return "\n".join(rows)


def _note(problems: Counter[str], name: str, result: Result) -> None:
    for status, count in result.statuses.items():
        problems[f"{name}: HTTP {status} ({result.sample[:160]})"] += count
    for error, count in result.errors.items():
        problems[f"{name}: {error}"] += count


async def run_all(args: argparse.Namespace, server: Server, target: Target) -> dict[str, object]:
    selected: list[str] = args.scenarios
    if selected == ["auto"]:
        selected = CUSTOMER_SUCCESS if customer_success_served(server.base) else EXISTING
        print(f"scenarios: {', '.join(selected)}")
    requests = {name: SCENARIOS[name].make(server.base, target) for name in selected}
    runs: dict[str, list[dict[str, float | int]]] = {name: [] for name in selected}
    problems: Counter[str] = Counter()
    for name in selected:
        if count := SCENARIOS[name].prime:
            started = time.perf_counter()
            primed = await prime(
                base=server.base,
                client=args.client,
                requests=requests[name][:count],
                connections=4,
            )
            print(f"primed {name}: {primed.sent} requests in {time.perf_counter() - started:.0f} s")
            _note(problems, f"{name} (priming)", primed)
    for repeat in range(args.repeats):
        for name in selected:
            result = await run_scenario(SCENARIOS[name], server, requests[name], args)
            summary = summarize(result)
            runs[name].append(summary)
            _note(problems, name, result)
            print(
                f"repeat {repeat + 1} {name:<13} {summary['rps']:7.0f} req/s  "
                f"p50 {summary['p50_ms']:6.1f}  p99 {summary['p99_ms']:7.1f} ms  "
                f"failures {summary['failures']}  unfinished {summary['unfinished']}  "
                f"connections per worker {'/'.join(map(str, result.spread))}",
                flush=True,
            )
    medians = {
        name: {key: statistics.median(float(r[key]) for r in rs) for key in rs[0]}
        for name, rs in runs.items()
    }
    print()
    print(table(medians, selected))
    return {"scenarios": selected, "runs": runs, "medians": medians, "problems": dict(problems)}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/load-home"))
    parser.add_argument("--copy-from", type=Path, help="copy a finished demo home into --home")
    parser.add_argument("--build", action="store_true", help="run `propensity demo` into --home")
    parser.add_argument(
        "--scenarios",
        type=lambda text: text.split(","),
        default=["auto"],
        help=f"comma-separated from {', '.join(SCENARIOS)}; 'auto' picks the customer-success "
        "set when its endpoints are served, else the existing-endpoint set",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds first")
    parser.add_argument(
        "--connections",
        type=int,
        default=16,
        help="closed-loop concurrency (32 exhausted a worker's 5+10 SQLite connection pool: 500s)",
    )
    parser.add_argument("--rate", type=float, default=200.0, help="open-loop requests/s")
    parser.add_argument("--max-in-flight", type=int, default=64, help="open-loop connections")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    parser.add_argument(
        "--commit",
        help="serve src/ as committed at this revision (e.g. HEAD) instead of the working tree",
    )
    parser.add_argument("--json", type=Path, help="write every run and the medians here")
    args = parser.parse_args()
    unknown = set(args.scenarios) - {*SCENARIOS, "auto"}
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return args


def main() -> int:
    args = parse_args()
    info = machine()
    print(json.dumps(info))
    if args.copy_from:
        copy_home(args.copy_from, args.home)
    source = export_source(args.commit, args.home) if args.commit else None
    info["served_source"] = str(source) if source else "working tree"
    prepare_home(args.home, build=args.build, source=source)
    target = bench_target(args.home)
    print(f"tenant {target.tenant_id}, {len(target.account_ids)} accounts; server env {SERVER_ENV}")
    log = args.home / "load-server.log"
    with running_server(args.home, workers=args.workers, log=log, source=source) as server:
        # uvloop (installed with uvicorn) costs the client less CPU per request than asyncio's
        # own loop, and the client's CPU is taken from the server's two cores.
        report = uvloop.run(run_all(args, server, target))
    info["loadavg_end"] = os.getloadavg()
    report = {"machine": info, "args": {k: str(v) for k, v in vars(args).items()}, **report}
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    problems = report["problems"]
    if problems:
        print("\nFAILED: non-2xx responses or errors:", file=sys.stderr)
        for what, count in problems.items():  # type: ignore[attr-defined]
            print(f"  {count:6d}  {what}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
