"""Each surface renders core errors in the envelope its document specifies.

The renderer is chosen by the longest matching path prefix, so an unknown route, a bad
JSON body or an unexpected failure under `/api/ml` looks like the ML platform's errors,
and the same under `/api` like RetainStream's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse

from propensity.errors import Busy, InvalidInput, PropensityError, RateLimited

Renderer = Callable[[PropensityError], dict[str, Any]]

_REASON_PHRASES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    422: "Unprocessable entity",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def _customer_success(err: PropensityError) -> dict[str, Any]:
    # The document's one code for an internal failure.
    code = "PREDICTION_FAILED" if err.code == "INTERNAL_ERROR" else err.code
    body: dict[str, Any] = {"error": err.message, "code": code}
    body.update({k: v for k, v in err.details.items() if k not in body})
    return body


def _lead_ml(err: PropensityError) -> dict[str, Any]:
    return {"error": err.message, "code": err.code, "details": err.details}


def _churn_kpi(err: PropensityError) -> dict[str, Any]:
    body: dict[str, Any] = {
        "error": _REASON_PHRASES.get(err.status_code, "Error"),
        "message": err.message,
    }
    if err.status_code == 503:
        body["fallback"] = True
    return body


def _ml_platform(err: PropensityError) -> dict[str, Any]:
    return {
        "success": False,
        "error": {"code": err.code, "message": err.message, "details": err.details},
    }


def _retainstream(err: PropensityError) -> dict[str, Any]:
    body: dict[str, Any] = {"success": False, "message": err.message}
    if err.status_code >= 500:
        body["error"] = {}
    return body


def _native(err: PropensityError) -> dict[str, Any]:
    return {"error": {"code": err.code, "message": err.message, "details": err.details}}


@dataclass(frozen=True)
class Surface:
    name: str
    prefix: str
    render: Renderer
    # The code of a request the framework could not read (not JSON, a body of the wrong
    # shape) where the surface's document has its own; such a surface's checks name the
    # field in `details.field`, and so does this error. None: BAD_REQUEST.
    invalid_code: str | None = None


SURFACES: tuple[Surface, ...] = (
    Surface("customer_success", "/api/crm/accounts", _customer_success),
    Surface("lead_ml", "/api/lead-scoring", _lead_ml),
    Surface("churn_kpi", "/api/kpi/churn", _churn_kpi),
    Surface("ml_platform", "/api/ml", _ml_platform, invalid_code="VALIDATION_ERROR"),
    Surface("native", "/api/v1", _native),
    Surface("retainstream", "/api", _retainstream),
)
NATIVE = SURFACES[4]
_BY_LENGTH = sorted(SURFACES, key=lambda s: len(s.prefix), reverse=True)


def surface_for_path(path: str) -> Surface:
    for surface in _BY_LENGTH:
        if path == surface.prefix or path.startswith(surface.prefix + "/"):
            return surface
    return NATIVE


def not_found_message(surface: Surface) -> str:
    return "Route not found" if surface.name == "retainstream" else "Not found"


def invalid_request(path: str, message: str, problems: list[dict[str, str]]) -> InvalidInput:
    """The 400 for a request the framework could not read, as the surface at `path` words it;
    `problems` are {"field", "problem"}, the first field named when the surface names one."""
    surface = surface_for_path(path)
    if surface.invalid_code is None:
        return InvalidInput(message, details={"errors": problems})
    field = problems[0]["field"] if problems else "body"
    return InvalidInput(
        message, code=surface.invalid_code, details={"field": field, "errors": problems}
    )


def error_response(path: str, err: PropensityError) -> JSONResponse:
    surface = surface_for_path(path)
    headers: dict[str, str] = {}
    if isinstance(err, RateLimited | Busy):
        headers["Retry-After"] = str(err.retry_after)
    return JSONResponse(surface.render(err), status_code=err.status_code, headers=headers)
