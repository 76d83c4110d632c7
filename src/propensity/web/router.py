"""The dashboard's router: every page group under web/pages/, and the handlers that turn a
page's errors into pages (a redirect to sign in, an error in words) rather than JSON."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from propensity.web import pages
from propensity.web.context import LoginRequired, PageError
from propensity.web.render import error_page

# Paths that belong to the APIs and their documentation; every other path is a page, so an
# unknown one gets the 404 page rather than a JSON envelope.
API_PREFIXES = ("/api", "/docs", "/redoc", "/openapi.json", "/static", "/metrics", "/health")


def is_page_path(path: str) -> bool:
    return not any(path == p or path.startswith(p + "/") for p in API_PREFIXES)


def _page_routers() -> list[APIRouter]:
    # Each pages/*.py module with a `router` is a page group; discovering them keeps this file
    # out of every page's change. auth comes first: it owns "/" and /login.
    names = sorted(m.name for m in pkgutil.iter_modules(pages.__path__))
    names.sort(key=lambda name: name != "auth")
    routers = []
    for name in names:
        module = importlib.import_module(f"{pages.__name__}.{name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            routers.append(router)
    return routers


router = APIRouter(include_in_schema=False)
for _page_router in _page_routers():
    router.include_router(_page_router, include_in_schema=False)


def install_page_errors(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(exc.location, status_code=303)

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> Response:
        return error_page(request, exc.status_code, exc.message)
