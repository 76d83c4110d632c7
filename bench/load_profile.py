"""Where a request's time goes: the app driven in-process over ASGI, one request at a time.

No sockets and no concurrency, so each figure is the CPU cost of one request through
uvicorn-less Propensity. Three builds of the same app are compared:

    as-is      create_app() with its `@app.middleware("http")` request-context middleware
    no-mw      the same app with that middleware removed (the floor)
    pure-asgi  the middleware rewritten as a plain ASGI middleware (`RequestContext` below)

and extra routes are mounted on each to separate the costs: an async no-op, a sync no-op
(one threadpool hop), a sync route with the viewer dependency (JWT verify and user lookup),
and one that also opens a tenant session and reads one account. Micro-benchmarks then time
token verification, the user lookup, a pooled connection check-out with and without
`pool_pre_ping`, a threadpool hop, JSON rendering of a prediction-sized body and a
filtered-out versus an emitted log line.

    .venv/bin/python bench/load_profile.py --home /tmp/load-home --repeats 5
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import anyio.to_thread
import sqlalchemy as sa
import structlog
import uvloop
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.middleware import Middleware

from propensity.app import create_app
from propensity.db import Database, create_db_engine
from propensity.deps import TenantSession, Viewer
from propensity.logs import configure_logging, get_logger
from propensity.settings import Settings
from propensity.tenancy.service import principal_for_user
from propensity.tenancy.tokens import read_token

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = get_logger("propensity.app")


class RequestContext:
    """The request-context middleware as plain ASGI: same request id, header and log line,
    without BaseHTTPMiddleware's extra task, memory stream and Request/Response wrappers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = (
            next(
                (v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"),
                None,
            )
            or uuid.uuid4().hex[:16]
        )
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.clear_contextvars()
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
                request_id=request_id,
            )


def add_probe_routes(app: FastAPI) -> None:
    @app.get("/bench/noop-async")
    async def noop_async() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/bench/noop-sync")
    def noop_sync() -> dict[str, bool]:
        return {"ok": True}

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
    app = create_app(settings, database)
    if variant != "as-is":
        app.user_middleware = [Middleware(RequestContext)] if variant == "pure-asgi" else []
        app.middleware_stack = None  # rebuilt from user_middleware on the first call
    add_probe_routes(app)
    return app


async def call(app: ASGIApp, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
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
            return {"type": "http.request", "body": b"", "more_body": False}
        await disconnected.wait()  # the client never disconnects
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def time_route(
    app: ASGIApp, path: str, headers: list[tuple[bytes, bytes]], n: int
) -> tuple[float, float]:
    """Microseconds per request: wall clock and process CPU (threads included)."""
    for _ in range(50):
        status = await call(app, path, headers)
    if status != 200:
        raise RuntimeError(f"{path} answered {status}")
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        await call(app, path, headers)
    return (time.perf_counter() - wall) / n * 1e6, (time.process_time() - cpu) / n * 1e6


def per_call_us(fn: Callable[[], object], n: int) -> float:
    for _ in range(min(n, 50)):
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


def micro(settings: Settings, database: Database, token: str, n: int) -> dict[str, float]:
    key = settings.signing_key()
    claims = read_token(token, key=key)

    def lookup() -> None:
        with database.session(system=True) as session, session.begin():
            principal_for_user(session, user_id=claims.user_id, tenant_id=claims.tenant_id)

    no_ping = create_db_engine(settings.resolved_database_url)
    no_ping.pool._pre_ping = False  # the same engine settings except the pre-ping

    def checkout(engine: sa.Engine) -> Callable[[], None]:
        def run() -> None:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))

        return run

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
    figures = {
        "jwt verify (read_token)": per_call_us(lambda: read_token(token, key=key), n),
        "user lookup (system session + principal_for_user)": per_call_us(lookup, n),
        "connection check-out + SELECT 1, pool_pre_ping": per_call_us(checkout(database.engine), n),
        "connection check-out + SELECT 1, no pre-ping": per_call_us(checkout(no_ping), n),
        "threadpool hop (anyio.to_thread.run_sync)": uvloop.run(hops(n)),
        "prediction body: model_dump_json (FastAPI response_model path)": per_call_us(
            body.model_dump_json, n
        ),
        "prediction body: json.dumps(model_dump()) (JSONResponse path)": per_call_us(
            lambda: json.dumps(body.model_dump()).encode(), n
        ),
        "log line emitted at INFO (console renderer)": emitted,
        "log line filtered out (level WARNING)": filtered,
    }
    no_ping.dispose()
    return figures


async def routes(
    apps: dict[str, FastAPI], headers: list[tuple[bytes, bytes]], account: int, n: int
) -> dict[tuple[str, str], tuple[float, float]]:
    paths = {
        "GET /api/health": "/api/health",
        "async no-op": "/bench/noop-async",
        "sync no-op": "/bench/noop-sync",
        "sync + viewer auth": "/bench/viewer",
        "sync + auth + tenant session + 1 row": f"/bench/account/{account}",
    }
    out: dict[tuple[str, str], tuple[float, float]] = {}
    for label, path in paths.items():
        for variant, app in apps.items():
            out[(label, variant)] = await time_route(app, path, headers, n)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, default=Path("/tmp/load-home"))
    parser.add_argument("--requests", type=int, default=1000, help="per route and repeat")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from load_server import bench_target

    target = bench_target(args.home)
    settings = Settings(
        home=args.home, log_level="WARNING", retainstream_rate_limit="1000000/minute"
    )
    configure_logging(level="WARNING")
    database = Database(settings.resolved_database_url)
    apps = {v: build_app(settings, database, v) for v in ("as-is", "no-mw", "pure-asgi")}
    headers = [
        (b"authorization", f"Bearer {target.token}".encode()),
        (b"x-tenant-id", str(target.tenant_id).encode()),
        (b"host", b"127.0.0.1"),
    ]
    account = target.account_ids[0]
    runs = [uvloop.run(routes(apps, headers, account, args.requests)) for _ in range(args.repeats)]
    print(f"per request, median of {args.repeats} x {args.requests} sequential requests:")
    print(f"{'route':<40} " + " ".join(f"{v + ' cpu us':>17}" for v in apps))
    for label in dict.fromkeys(k[0] for k in runs[0]):
        cells = [statistics.median(r[(label, v)][1] for r in runs) for v in apps]
        print(f"{label:<40} " + " ".join(f"{c:>17.0f}" for c in cells))
    figures = [micro(settings, database, target.token, args.requests) for _ in range(args.repeats)]
    print("\nper call (process CPU), median over repeats:")
    for name in figures[0]:
        print(f"  {statistics.median(f[name] for f in figures):8.1f} us  {name}")


if __name__ == "__main__":
    main()
