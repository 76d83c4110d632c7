"""The ASGI application: one core behind five documented surfaces and the native API."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from propensity import __version__
from propensity.admission import AdmissionMiddleware
from propensity.bodylimit import BodyLimitMiddleware
from propensity.db import Database, get_database
from propensity.errors import Busy, InvalidInput, PropensityError, Unavailable
from propensity.jsonbody import JsonBodyMiddleware
from propensity.logs import configure_logging, get_logger
from propensity.request_context import RequestContextMiddleware
from propensity.serving.answers import AnswerCache
from propensity.settings import Settings, get_settings
from propensity.surfaces.envelopes import (
    error_response,
    invalid_request,
    not_found_message,
    surface_for_path,
)
from propensity.web.context import LoginRequired
from propensity.web.render import STATIC, error_page
from propensity.web.router import install_page_errors, is_page_path

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


def _page_error(request: Request, status: int, message: str) -> Response:
    """A dashboard path's error as a page in words; an expired session goes back to sign in."""
    if status == 401:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(LoginRequired(request.url.path + query).location, 303)
    return error_page(request, status, message)


def _install_error_handlers(app: FastAPI) -> None:
    install_page_errors(app)

    @app.exception_handler(PropensityError)
    async def core_error(request: Request, exc: PropensityError) -> Response:
        if is_page_path(request.url.path):
            return _page_error(request, exc.status_code, exc.message)
        return error_response(request.url.path, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        message, problems = _validation_message(exc)
        if is_page_path(request.url.path):
            return error_page(request, 400, message)
        return error_response(
            request.url.path, invalid_request(request.url.path, message, problems)
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        surface = surface_for_path(request.url.path)
        if exc.status_code == 404:
            message = not_found_message(surface)
        elif exc.status_code == 405:
            message = f"Method {request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        if is_page_path(request.url.path):
            if exc.status_code == 404:
                message = "There is no page at this address. Check the link, or start again."
            return _page_error(request, exc.status_code, message)
        code = {404: "NOT_FOUND", 413: "PAYLOAD_TOO_LARGE"}.get(exc.status_code, "HTTP_ERROR")
        err = PropensityError(message, code=code)
        err.status_code = exc.status_code
        return error_response(request.url.path, err)

    def busy(request: Request, err: Unavailable) -> Response:
        if is_page_path(request.url.path):
            page = error_page(request, 503, err.message)
            if isinstance(err, Busy):
                page.headers["Retry-After"] = str(err.retry_after)
            return page
        return error_response(request.url.path, err)

    @app.exception_handler(sa.exc.TimeoutError)
    async def pool_exhausted(request: Request, exc: sa.exc.TimeoutError) -> Response:
        log.warning("database_pool_exhausted", path=request.url.path)
        return busy(
            request, Busy("The server is busy: no database connection came free in time; retry")
        )

    @app.exception_handler(OverflowError)
    @app.exception_handler(sa.exc.DataError)
    async def out_of_range(request: Request, exc: Exception) -> Response:
        # A number too large for the database's integers (an id past 2**63 - 1 that a route
        # did not bound itself): the request's fault, not the server's.
        err = InvalidInput("A number in the request is out of range", code="OUT_OF_RANGE")
        if is_page_path(request.url.path):
            return error_page(request, 400, err.message)
        return error_response(request.url.path, err)

    @app.exception_handler(sa.exc.OperationalError)
    async def database_error(request: Request, exc: sa.exc.OperationalError) -> Response:
        # SQLite's single writer: another write held the lock past the busy timeout. An
        # answer to retry, not a 500; anything else operational is the database being away.
        if "database is locked" in str(exc.orig):
            log.warning("database_locked", path=request.url.path)
            return busy(request, Busy("The server is busy writing; retry shortly", retry_after=2))
        log.warning("database_unavailable", path=request.url.path, error=type(exc.orig).__name__)
        return busy(
            request,
            Unavailable(
                "The database is not answering; retry shortly", code="DATABASE_UNAVAILABLE"
            ),
        )

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled_error", path=request.url.path, method=request.method)
        if is_page_path(request.url.path):
            request_id = request.headers.get("x-request-id", "")
            return error_page(
                request,
                500,
                "Something went wrong on our side and the page could not be shown. The error "
                "was logged; try again, and tell your administrator if it persists"
                + (f" (request {request_id})." if request_id else "."),
            )
        return error_response(request.url.path, PropensityError("Internal Server Error"))


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # What exists once the app is built (the libraries, the routes) lives as long as the
    # process. Frozen out of the collector, the full collections that land on requests no
    # longer walk it: about 380,000 objects, a 200 ms pause on whichever request was unlucky.
    gc.freeze()
    # Requests served at once by this worker: each holds a thread and may hold a database
    # connection (the pool is sized for these plus the job consumer's).
    settings: Settings = app.state.settings
    to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
    yield


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
            "documented surfaces and a native API under /api/v1. The dashboard is at `/`."
        ),
        # Served below from /static, so the documentation works without internet.
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.database = database or get_database(settings)
    app.state.answers = AnswerCache(app.state.database.writes)
    settings.signing_key()  # fail at start, not on the first request, if the key is unusable

    # Inside the request context (added first = innermost): a refusal is logged with its id.
    # Innermost first: a JSON body is checked once read, within the body limit.
    app.add_middleware(JsonBodyMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(AdmissionMiddleware, max_in_flight=settings.max_in_flight)
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
    _include_docs(app)
    _include_dashboard(app)
    return app


# The documentation pages may load nothing from elsewhere: ReDoc's sidebar otherwise fetches
# its vendor's logo from a CDN. Swagger UI starts from an inline script; ReDoc searches in a
# worker it creates from a blob.
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; connect-src 'self'; "
    "font-src 'self' data:; frame-ancestors 'none'"
)


def _local_only(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


def _include_docs(app: FastAPI) -> None:
    """Swagger UI at /docs and ReDoc at /redoc from the vendored assets (ADR 0013): FastAPI's
    defaults load them from a CDN and are blank pages on a machine without internet."""
    vendor = "/static/vendor"
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_redirect = "/docs/oauth2-redirect"
    common: dict[str, Any] = {"openapi_url": openapi_url, "title": f"{app.title} API"}

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _local_only(
            get_swagger_ui_html(
                **common,
                swagger_js_url=f"{vendor}/swagger-ui/swagger-ui-bundle.js",
                swagger_css_url=f"{vendor}/swagger-ui/swagger-ui.css",
                swagger_favicon_url=f"{vendor}/swagger-ui/favicon-32x32.png",
                oauth2_redirect_url=oauth2_redirect,
            )
        )

    @app.get(oauth2_redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _local_only(
            get_redoc_html(
                **common,
                redoc_js_url=f"{vendor}/redoc/redoc.standalone.js",
                redoc_favicon_url=f"{vendor}/swagger-ui/favicon-32x32.png",
                with_google_fonts=False,
            )
        )


def _include_dashboard(app: FastAPI) -> None:
    from propensity.web.router import router as web_router

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(web_router)


def _include_routers(app: FastAPI) -> None:
    from propensity.api_v1.router import router as native_router
    from propensity.observability.router import router as operations_router
    from propensity.surfaces.churn_kpi.router import router as churn_kpi_router
    from propensity.surfaces.customer_success.router import router as customer_success_router
    from propensity.surfaces.lead_ml.router import router as lead_ml_router
    from propensity.surfaces.ml_platform.router import router as ml_platform_router
    from propensity.surfaces.retainstream.router import router as retainstream_router

    app.include_router(operations_router)
    app.include_router(native_router)
    app.include_router(churn_kpi_router)
    app.include_router(customer_success_router)
    app.include_router(ml_platform_router)
    app.include_router(lead_ml_router)
    # RetainStream's base path `/api` is the shortest prefix; it goes last so its catch-all
    # 404 never shadows the other surfaces.
    app.include_router(retainstream_router)
