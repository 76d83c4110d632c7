"""`/metrics` (Prometheus), `/health/live` and `/health/ready`. The documented
`/api/health` keeps its own answer (RetainStream's document)."""

from __future__ import annotations

import secrets
from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from propensity.db import Database
from propensity.errors import Unauthenticated
from propensity.metrics import CONTENT_TYPE, exposition
from propensity.observability.checks import readiness, readings
from propensity.settings import Settings

router = APIRouter(tags=["operations"])


@router.get("/health/live", summary="Liveness: the process answers")
async def live() -> dict[str, str]:
    return {"status": "alive"}


@router.get("/health/ready", summary="Readiness: database, migrations and job queue")
async def ready(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    result = await run_in_threadpool(partial(readiness, database=database, settings=settings))
    status = "ready" if result["ready"] else "not_ready"
    return JSONResponse(
        {"status": status, "checks": result["checks"]}, status_code=200 if result["ready"] else 503
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    if token is not None:
        presented = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not secrets.compare_digest(presented.encode(), token.encode()):
            raise Unauthenticated("A metrics token is required", code="AUTH_REQUIRED")
    database: Database = request.app.state.database
    body = await run_in_threadpool(exposition, partial(readings, database))
    return Response(body, media_type=CONTENT_TYPE)
