"""Per-request context as a plain ASGI middleware: a request id (the caller's X-Request-ID or
a new one) bound to every log line of the request, echoed in the response, one access
log line with status and duration (at debug for quick successes), and the request's latency in
the metrics by surface and route template.

Plain ASGI rather than Starlette's BaseHTTPMiddleware, which wraps every response body in an
extra task and stream and costs a noticeable share of a fast endpoint's time."""

from __future__ import annotations

import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from propensity.logs import get_logger
from propensity.metrics import REQUEST_SECONDS, status_class
from propensity.surfaces.envelopes import surface_for_path
from propensity.web.router import is_page_path

log = get_logger("propensity.app")
HEADER = b"x-request-id"
MAX_ID_LENGTH = 128


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or ():
        if name == HEADER:
            text = value.decode("latin-1").strip()
            return text[:MAX_ID_LENGTH] or None
    return None


SLOW_REQUEST_MS = 1000.0


def _route(scope: Scope) -> str:
    """The matched route's whole template (/api/crm/accounts/{account_id}/...), never the raw
    path: ids would make a metric label per entity. FastAPI resolves routers included in
    routers lazily and keeps the matched route's full template in its part of the scope (the
    route object itself knows only its own router's part);
    tests/observability checks that this still holds."""
    fastapi_scope = scope.get("fastapi")
    context = (
        fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    )
    template = getattr(context, "path_format", None) or getattr(scope.get("route"), "path", None)
    return str(template) if template else "unmatched"


def _surface(path: str) -> str:
    if is_page_path(path):
        return "dashboard"
    if path.startswith(("/metrics", "/health")):
        return "operations"
    return surface_for_path(path).name


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or uuid.uuid4().hex[:16]
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers") or [])
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.clear_contextvars()
            code = status["code"]
            ms = (time.perf_counter() - started) * 1000
            # A line per answered request would cost more than a cached answer itself: at the
            # default level only errors, refusals and slow requests are logged.
            if code >= 500:
                emit = log.warning
            elif code >= 400 or ms >= SLOW_REQUEST_MS:
                emit = log.info
            else:
                emit = log.debug
            REQUEST_SECONDS.labels(
                surface=_surface(scope["path"]),
                route=_route(scope),
                method=scope.get("method", ""),
                status=status_class(code),
            ).observe(ms / 1000)
            emit(
                "request",
                method=scope.get("method"),
                path=scope.get("path"),
                status=status["code"],
                ms=round(ms, 1),
                request_id=request_id,
            )
