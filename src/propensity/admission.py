"""Overload is an answer, not a stall: each server worker admits at most `max_in_flight`
requests at once (running on its `request_threads` threads or queued for one) and answers the
rest at once with 503 SERVER_BUSY and Retry-After, in the surface's envelope. Health checks
are always admitted, so a balancer sees a busy worker as alive."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from propensity.errors import Busy
from propensity.surfaces.envelopes import error_response
from propensity.web.render import error_page
from propensity.web.router import is_page_path

ALWAYS_ADMITTED = frozenset({"/api/health", "/health/live", "/health/ready", "/metrics"})
BUSY_MESSAGE = "The server is busy; retry shortly"


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, *, max_in_flight: int) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        # One event loop per worker: plain counting is safe.
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in ALWAYS_ADMITTED:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            path = scope["path"]
            err = Busy(BUSY_MESSAGE, details={"inFlight": self.in_flight})
            response: Response
            if is_page_path(path):
                response = error_page(Request(scope), 503, err.message)
                response.headers["Retry-After"] = str(err.retry_after)
            else:
                response = error_response(path, err)
            await response(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
