"""The route class of every RetainStream endpoint: errors raised while handling a request are
rendered here (in the surface envelope) so that they, too, carry `X-RateLimit-Remaining`."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from propensity.errors import PropensityError
from propensity.ratelimit import REMAINING_HEADER
from propensity.surfaces.envelopes import error_response

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class RateLimitedRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handle = super().get_route_handler()

        async def with_limit_header(request: Request) -> Response:
            try:
                response = await handle(request)
            except PropensityError as exc:
                response = error_response(request.url.path, exc)
            remaining = getattr(request.state, "rate_limit_remaining", None)
            if remaining is not None and REMAINING_HEADER not in response.headers:
                response.headers[REMAINING_HEADER] = str(remaining)
            return response

        return with_limit_header
