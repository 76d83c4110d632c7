"""The ASGI application: one core behind five documented surfaces and the native API."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from propensity import __version__
from propensity.db import Database, get_database
from propensity.errors import PropensityError, Unavailable
from propensity.logs import configure_logging, get_logger
from propensity.request_context import RequestContextMiddleware
from propensity.settings import Settings, get_settings
from propensity.surfaces.envelopes import (
    error_response,
    invalid_request,
    not_found_message,
    surface_for_path,
)

log = get_logger(__name__)


def _validation_message(exc: RequestValidationError) -> tuple[str, list[dict[str, str]]]:
    problems = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        if error.get("type") == "json_invalid":
            location = ""  # its location is a character offset: the body is what is wrong
        problems.append({"field": location or "body", "problem": str(error.get("msg", "invalid"))})
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        return "Request body is not valid JSON", problems
    summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:5])
    return f"Invalid request: {summary}", problems


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PropensityError)
    async def core_error(request: Request, exc: PropensityError) -> JSONResponse:
        return error_response(request.url.path, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, problems = _validation_message(exc)
        return error_response(
            request.url.path, invalid_request(request.url.path, message, problems)
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        surface = surface_for_path(request.url.path)
        if exc.status_code == 404:
            message = not_found_message(surface)
        elif exc.status_code == 405:
            message = f"Method {request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        err = PropensityError(message, code="NOT_FOUND" if exc.status_code == 404 else "HTTP_ERROR")
        err.status_code = exc.status_code
        return error_response(request.url.path, err)

    @app.exception_handler(sa.exc.TimeoutError)
    async def pool_exhausted(request: Request, exc: sa.exc.TimeoutError) -> JSONResponse:
        log.warning("database_pool_exhausted", path=request.url.path)
        err = Unavailable(
            "The server is busy: no database connection came free in time; retry shortly",
            code="SERVER_BUSY",
        )
        return error_response(request.url.path, err)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path, method=request.method)
        return error_response(request.url.path, PropensityError("Internal Server Error"))


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    if settings is None:
        # Called as uvicorn's factory: with several workers each process starts here, not in
        # `propensity serve`, and would otherwise log at the default level.
        settings = get_settings()
        configure_logging(level=settings.log_level, json=settings.log_json)
    app = FastAPI(
        title="Propensity",
        version=__version__,
        description=(
            "Calibrated, explained predictions from your own CRM data, served through five "
            "documented surfaces and a native API under /api/v1."
        ),
    )
    app.state.settings = settings
    app.state.database = database or get_database(settings)
    settings.signing_key()  # fail at start, not on the first request, if the key is unusable

    app.add_middleware(RequestContextMiddleware)
    if settings.cors_allowed_origins:
        # Added last, so outermost: refusals (401, 429, 4xx envelopes) carry the CORS headers
        # too and a browser client can read why. Bearer tokens and API keys, not cookies.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allowed_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-API-Key",
                "X-Tenant-ID",
                "X-Request-ID",
            ],
            expose_headers=["X-Request-ID", "X-RateLimit-Remaining", "Retry-After"],
            allow_credentials=False,
            max_age=600,
        )
    _install_error_handlers(app)
    _include_routers(app)
    return app


def _include_routers(app: FastAPI) -> None:
    from propensity.api_v1.router import router as native_router
    from propensity.surfaces.churn_kpi.router import router as churn_kpi_router
    from propensity.surfaces.customer_success.router import router as customer_success_router
    from propensity.surfaces.lead_ml.router import router as lead_ml_router
    from propensity.surfaces.ml_platform.router import router as ml_platform_router
    from propensity.surfaces.retainstream.router import router as retainstream_router

    app.include_router(native_router)
    app.include_router(churn_kpi_router)
    app.include_router(customer_success_router)
    app.include_router(ml_platform_router)
    app.include_router(lead_ml_router)
    # RetainStream's base path `/api` is the shortest prefix; it goes last so its catch-all
    # 404 never shadows the other surfaces.
    app.include_router(retainstream_router)
