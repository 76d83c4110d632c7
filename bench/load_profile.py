"""Where a request's time goes: the app driven in-process over ASGI, one request at a time.

No sockets and no concurrency, so each figure is the CPU cost of one request through
Propensity without uvicorn. Three builds of the same app are compared:

    base-http  the request-context middleware as it was before b7a786d: `@app.middleware("http")`
               (Starlette's BaseHTTPMiddleware), reproduced here
    as-is      create_app() as it is now (a plain ASGI middleware since b7a786d)
    no-mw      the same app without any request-context middleware (the floor)

Extra routes are mounted on each to separate the costs: an async no-op, a sync no-op (one
threadpool hop for the endpoint, one for response validation), a sync route with the viewer
dependency (JWT verify and user lookup), and one that also opens a tenant session and reads
one row. The customer-success reads and forced predictions are timed on the as-is build.
Micro-benchmarks then time the pieces: token verification, the user lookup, reading the
signing key, loading the active model version, the supersede UPDATE of a forced prediction,
a threadpool hop, JSON rendering of a prediction-sized body and a log line.

    .venv/bin/python bench/load_profile.py --home /tmp/load-home --repeats 3

To profile a commit rather than the working tree, put the copy of `src/` that
`bench/load.py --commit` exported first on the path:
`PYTHONPATH=/tmp/load-home/src-<sha>/src .venv/bin/python bench/load_profile.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sqlite3
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
import sqlalchemy as sa
import structlog
import uvloop
from fastapi import Depends, FastAPI, Request, Response
from load_server import Target, bench_target
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware

from propensity.app import create_app
from propensity.db import Database
from propensity.deps import TenantSession, Viewer, get_principal
from propensity.logs import configure_logging, get_logger
from propensity.models import ModelVersion
from propensity.registry.service import active_version
from propensity.settings import Settings
from propensity.tenancy.service import Principal, principal_for_user
from propensity.tenancy.tokens import read_token

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[..., Awaitable[None]]

log = get_logger("propensity.app")
VARIANTS = ("base-http", "as-is", "no-mw")


async def base_http_request_context(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """The request-context middleware of src/propensity/app.py before b7a786d, verbatim."""
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
    structlog.contextvars.bind_contextvars(request_id=request_id)
    started = time.perf_counter()
    try:
        response = await call_next(request)
    finally:
        structlog.contextvars.clear_contextvars()
    elapsed_ms = (time.perf_counter() - started) * 1000
    response.headers["X-Request-ID"] = request_id
    log.info(
        "request",
        method=request.method,
        path=request.url.path,
        status=response.status_code,
        ms=round(elapsed_ms, 1),
        request_id=request_id,
    )
    return response


async def principal_in_one_hop(request: Request) -> Principal:
    """get_principal and its two trivial dependencies in one threadpool call, not three."""
    state = request.app.state
    principal: Principal = await run_in_threadpool(
        get_principal, request, state.database, state.settings
    )
    return principal


OneHopPrincipal = Annotated[Principal, Depends(principal_in_one_hop)]


def add_probe_routes(app: FastAPI) -> None:
    @app.get("/bench/noop-async")
    async def noop_async() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/bench/noop-sync")
    def noop_sync() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/bench/viewer-async")
    async def viewer_async(principal: OneHopPrincipal) -> dict[str, int]:
        return {"user": principal.user_id}

    @app.get("/bench/viewer")
    def viewer(principal: Viewer) -> dict[str, int]:
        return {"user": principal.user_id}

    @app.get("/bench/account/{account_id}")
    def account(account_id: int, principal: Viewer, session: TenantSession) -> dict[str, Any]:
        row = session.execute(
            sa.text("SELECT id, name FROM customers WHERE id = :i AND tenant_id = :t"),
            {"i": account_id, "t": principal.tenant_id},
        ).first()
        return {"id": row[0], "name": row[1]} if row else {}


def build_app(settings: Settings, database: Database, variant: str) -> FastAPI:
    app: FastAPI = create_app(settings, database)
    if variant == "base-http":
        app.user_middleware = [Middleware(BaseHTTPMiddleware, dispatch=base_http_request_context)]
    elif variant == "no-mw":
        app.user_middleware = []
    add_probe_routes(app)
    return app


async def call(
    app: ASGIApp, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> int:
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    received = False
    status = 0
    disconnected = asyncio.Event()

    async def receive() -> Message:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": body, "more_body": False}
        await disconnected.wait()  # the client never disconnects
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


@dataclass(frozen=True)
class Probe:
    label: str
    method: str
    paths: list[str]  # rotated over
    requests: int
    variants: tuple[str, ...] = VARIANTS
    body: bytes = b""


async def time_probe(
    app: ASGIApp, probe: Probe, headers: list[tuple[bytes, bytes]]
) -> tuple[float, float]:
    """Milliseconds per request: wall clock and process CPU (threads included)."""
    for path in probe.paths[:3]:
        status = await call(app, probe.method, path, headers, probe.body)
        if status != 200:
            raise RuntimeError(f"{probe.method} {path} answered {status}")
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(probe.requests):
        path = probe.paths[i % len(probe.paths)]
        await call(app, probe.method, path, headers, probe.body)
    n = probe.requests
    return (time.perf_counter() - wall) / n * 1e3, (time.process_time() - cpu) / n * 1e3


def per_call_us(fn: Callable[[], object], n: int) -> float:
    for _ in range(min(n, 20)):
        fn()
    started = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - started) / n * 1e6


class RiskFactor(BaseModel):
    factor: str
    impact: str
    description: str


class Recommendation(BaseModel):
    action: str
    priority: str
    timeframe: str
    expectedImpact: str  # noqa: N815 - the document's field name


class PredictionLike(BaseModel):
    """About the size and shape of the customer-success prediction body in the document."""

    predictionType: str  # noqa: N815
    probability: float
    confidence: float
    riskCategory: str  # noqa: N815
    primaryChurnDrivers: list[str]  # noqa: N815
    riskFactors: list[RiskFactor]  # noqa: N815
    recommendations: list[Recommendation]
    explanation: str


def prediction_like() -> PredictionLike:
    return PredictionLike(
        predictionType="CHURN",
        probability=0.7213,
        confidence=0.85,
        riskCategory="high",
        primaryChurnDrivers=[f"Driver number {i} with a sentence of text" for i in range(3)],
        riskFactors=[
            RiskFactor(factor=f"Factor {i}", impact="high", description="x" * 80) for i in range(5)
        ],
        recommendations=[
            Recommendation(action="a" * 40, priority="high", timeframe="5 days", expectedImpact="e")
            for _ in range(4)
        ],
        explanation="word " * 80,
    )


SUPERSEDE = (
    "UPDATE predictions SET status = 'SUPERSEDED' WHERE tenant_id = ? AND prediction_type = "
    "'CHURN' AND {status} = 'ACTIVE' AND customer_id IN (?)"
)


def supersede_ms(db_file: Path, tenant_id: int, ids: list[int], *, hinted: bool) -> float:
    """The supersede UPDATE that every forced prediction runs (record_run), rolled back.
    `+status` keeps SQLite from using ix_predictions_status for it (a test of the plan)."""
    conn = sqlite3.connect(db_file, timeout=30)
    sql = SUPERSEDE.format(status="+status" if hinted else "status")
    try:
        started = time.process_time()
        for account in ids:
            conn.execute(sql, (tenant_id, account))
            conn.rollback()
        return (time.process_time() - started) / len(ids) * 1e3
    finally:
        conn.close()


def micro(settings: Settings, database: Database, target: Target, n: int) -> dict[str, float]:
    """Microseconds per call (process CPU) of the pieces of a request."""
    key = settings.signing_key()
    claims = read_token(target.token, key=key)

    def lookup() -> None:
        with database.session(system=True) as session, session.begin():
            principal_for_user(session, user_id=claims.user_id, tenant_id=claims.tenant_id)

    def model_row() -> None:
        with database.session(tenant_id=target.tenant_id) as session:
            active_version(session, prediction_type="CHURN", population="account")

    def model_id() -> None:
        with database.session(tenant_id=target.tenant_id) as session:
            session.scalar(
                sa.select(ModelVersion.id).where(
                    ModelVersion.prediction_type == "CHURN",
                    ModelVersion.population == "account",
                    ModelVersion.status == "ACTIVE",
                )
            )

    async def hops(count: int) -> float:
        started = time.process_time()
        for _ in range(count):
            await anyio.to_thread.run_sync(int)
        return (time.process_time() - started) / count * 1e6

    body = prediction_like()
    sink = io.StringIO()
    configure_logging(level="INFO")
    structlog.configure(logger_factory=lambda *_: structlog.PrintLogger(file=sink))
    info_log = structlog.get_logger("bench")
    emitted = per_call_us(lambda: info_log.info("request", method="GET", path="/x", ms=1.0), n)
    configure_logging(level="WARNING")
    filtered = per_call_us(lambda: structlog.get_logger("bench").info("request", path="/x"), n)
    db_file = settings.home / "propensity.db"
    some = target.account_ids[:100]
    return {
        "jwt verify (read_token)": per_call_us(lambda: read_token(target.token, key=key), n),
        "signing key (settings.signing_key(), reads HOME/secret_key)": per_call_us(
            settings.signing_key, n
        ),
        "user lookup (system session + principal_for_user)": per_call_us(lookup, n),
        "active model version, whole ORM row (active_version)": per_call_us(model_row, n),
        "active model version, id only": per_call_us(model_id, n),
        "supersede UPDATE as planned now (ix_predictions_status)": supersede_ms(
            db_file, target.tenant_id, some, hinted=False
        )
        * 1e3,
        "supersede UPDATE through ix_predictions_customer (+status)": supersede_ms(
            db_file, target.tenant_id, some, hinted=True
        )
        * 1e3,
        "threadpool hop (anyio.to_thread.run_sync)": uvloop.run(hops(n)),
        "prediction body: model_dump_json (FastAPI response_model path)": per_call_us(
            body.model_dump_json, n
        ),
        "prediction body: json.dumps(model_dump()) (plain dict / JSONResponse path)": per_call_us(
            lambda: json.dumps(body.model_dump()).encode(), n
        ),
        "log line emitted at INFO (console renderer)": emitted,
        "log line filtered out (level WARNING)": filtered,
    }


def probes(target: Target, args: argparse.Namespace) -> list[Probe]:
    accounts = [f"/api/crm/accounts/{i}/ml/" for i in target.account_ids]
    predict_body = json.dumps({"predictionType": "CHURN", "options": {"forceRefresh": True}})
    n = args.requests
    return [
        Probe("GET /api/health", "GET", ["/api/health"], n),
        Probe("async no-op", "GET", ["/bench/noop-async"], n),
        Probe("sync no-op", "GET", ["/bench/noop-sync"], n),
        Probe("async + auth in one hop", "GET", ["/bench/viewer-async"], n),
        Probe("sync + viewer auth", "GET", ["/bench/viewer"], n),
        Probe("sync + auth + tenant session + 1 row", "GET", ["/bench/account/1"], n),
        Probe("GET churn-risk (cached)", "GET", [a + "churn-risk" for a in accounts], n // 3),
        Probe(
            "POST predict forceRefresh",
            "POST",
            [a + "predict" for a in accounts[500:]],
            args.predictions,
            variants=("as-is",),
            body=predict_body.encode(),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, default=Path("/tmp/load-home"))
    parser.add_argument("--requests", type=int, default=1000, help="per probe and repeat")
    parser.add_argument("--predictions", type=int, default=20, help="forced, per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    target = bench_target(args.home)
    settings = Settings(
        home=args.home,
        log_level="WARNING",
        retainstream_rate_limit="100000000/minute",
        cs_predict_daily_limit="100000000/day",
    )
    configure_logging(level="WARNING")
    database = Database(settings.resolved_database_url)
    apps = {v: build_app(settings, database, v) for v in VARIANTS}
    headers = [
        (b"authorization", f"Bearer {target.token}".encode()),
        (b"x-tenant-id", str(target.tenant_id).encode()),
        (b"content-type", b"application/json"),
        (b"host", b"127.0.0.1"),
    ]
    selected = probes(target, args)

    failed: dict[str, str] = {}

    async def one_repeat() -> dict[tuple[str, str], tuple[float, float]]:
        out = {}
        for probe in selected:
            for variant in probe.variants:
                try:
                    out[(probe.label, variant)] = await time_probe(apps[variant], probe, headers)
                except Exception as exc:
                    failed[probe.label] = f"{type(exc).__name__}: {str(exc)[:200]}"
                    out[(probe.label, variant)] = (float("nan"), float("nan"))
        return out

    runs = [uvloop.run(one_repeat()) for _ in range(args.repeats)]
    print(f"CPU ms per request, sequential, median of {args.repeats} repeats:")
    print(f"{'route':<40} " + " ".join(f"{v:>10}" for v in VARIANTS))
    for probe in selected:
        cells = [
            f"{statistics.median(r[(probe.label, v)][1] for r in runs):>10.3f}"
            if v in probe.variants
            else f"{'-':>10}"
            for v in VARIANTS
        ]
        print(f"{probe.label:<40} " + " ".join(cells))
    for label, reason in failed.items():
        print(f"FAILED {label}: {reason}")
    figures = [micro(settings, database, target, args.requests) for _ in range(args.repeats)]
    print("\nCPU per call, median of repeats:")
    for name in figures[0]:
        print(f"  {statistics.median(f[name] for f in figures):9.1f} us  {name}")


if __name__ == "__main__":
    main()
