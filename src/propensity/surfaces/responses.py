"""A JSON body returned as the response itself, rendered once.

An endpoint that returns a dict has FastAPI validate and encode it before rendering, which for
a sync endpoint is a thread-pool hop of its own. One that returns a Response skips both, but
FastAPI then drops the headers its dependencies set on the injected `Response` (the rate
limits' `X-RateLimit-*`); `json_response` carries them over, as FastAPI does for a dict."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from fastapi.responses import JSONResponse


def json_response(body: Any, *, carried: Response, status_code: int = 200) -> JSONResponse:
    """`body` rendered as JSON, with the headers set on `carried` (the request's injected
    Response) added."""
    out = JSONResponse(body, status_code=status_code)
    out.headers.raw.extend(carried.headers.raw)
    return out
