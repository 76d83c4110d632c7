"""Rendering pages: one Jinja2 environment over web/templates/ (autoescaped), the number and
date filters every page shares, and error pages in words."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Undefined, select_autoescape

from propensity import __version__
from propensity.tenancy.service import Principal
from propensity.web.context import SESSION_COOKIE, PageContext, csrf_token_for, page_principal

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
MISSING = "—"
# Pages load only this site's files (the dashboard works offline, and an injected script or
# a leaked request has nowhere to go). Scripts live in static/ files: no inline script runs.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'self'"
)


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    active: bool


NAV = (
    ("Accounts", "/accounts"),
    ("Leads", "/leads"),
    ("Subscribers", "/subscribers"),
    ("Models", "/models"),
    ("Data", "/data"),
)


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, (Undefined, bool)):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def _shown(value: Any, show: Callable[[float], str]) -> str:
    """`show` of the value as a number; MISSING when it is none, or not a finite number."""
    number = _number(value)
    return MISSING if number is None else show(number)


def pct(value: Any, digits: int = 1) -> str:
    """A fraction as a percentage: 0.1234 → "12.3%"."""
    return _shown(value, lambda number: f"{number * 100:.{digits}f}%")


def money(value: Any, digits: int = 0) -> str:
    return _shown(value, lambda number: f"{'-' if number < 0 else ''}${abs(number):,.{digits}f}")


def num(value: Any, digits: int = 0) -> str:
    return _shown(value, lambda number: f"{number:,.{digits}f}")


def signed(value: Any, digits: int = 3) -> str:
    """A contribution or a change with its sign: 0.0312 → "+0.031"."""

    def show(number: float) -> str:
        text = f"{number:+.{digits}f}"
        return text if text.strip("+-0.") else f"{0:.{digits}f}"

    return _shown(value, show)


def signed_pct(value: Any, digits: int = 1) -> str:
    """A change of a probability in percentage points: 0.031 → "+3.1 pp"."""
    return _shown(value, lambda number: f"{signed(number * 100, digits)} pp")


def _as_datetime(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def date_filter(value: Any, fmt: str = "%Y-%m-%d") -> str:
    moment = _as_datetime(value)
    return MISSING if moment is None else moment.strftime(fmt)


def datetime_filter(value: Any) -> str:
    moment = _as_datetime(value)
    if moment is None:
        return MISSING
    if not isinstance(moment, datetime):
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _asset(path: str) -> str:
    # The version in the query string makes browsers fetch assets again after an upgrade.
    return f"/static/{path}?v={__version__}"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        pct=pct,
        money=money,
        num=num,
        signed=signed,
        signed_pct=signed_pct,
        date=date_filter,
        datetime=datetime_filter,
    )
    env.globals.update(asset=_asset, version=__version__)
    return env


ENV = _environment()


def nav_for(path: str) -> list[NavItem]:
    return [
        NavItem(label, href, path == href or path.startswith(href + "/")) for label, href in NAV
    ]


def _page(
    request: Request,
    principal: Principal | None,
    csrf_token: str,
    ctx: PageContext | None,
    template: str,
    status_code: int,
    values: dict[str, Any],
) -> HTMLResponse:
    html = ENV.get_template(template).render(
        ctx=ctx,
        request=request,
        user=principal,
        csrf_token=csrf_token,
        nav=nav_for(request.url.path) if principal is not None else [],
        **values,
    )
    response = HTMLResponse(html, status_code=status_code)
    # Pages show one tenant's data: never from a shared cache, never framed by another site.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response


def render(
    ctx: PageContext, template: str, *, status_code: int = 200, **values: Any
) -> HTMLResponse:
    """The page `template` (a path under web/templates/) for the signed-in user of `ctx`."""
    return _page(ctx.request, ctx.principal, ctx.csrf_token, ctx, template, status_code, values)


def render_public(
    request: Request, template: str, *, status_code: int = 200, **values: Any
) -> HTMLResponse:
    """A page shown before sign-in (the login page)."""
    return _page(request, None, "", None, template, status_code, values)


TITLES = {
    400: "That request could not be read",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Conflict",
    422: "Not enough data yet",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Temporarily unavailable",
    504: "That took too long",
}


def error_page(ctx_or_request: PageContext | Request, status: int, message: str) -> HTMLResponse:
    """An error in words (never a stack trace), with the user's navigation when signed in."""
    if isinstance(ctx_or_request, PageContext):
        ctx: PageContext | None = ctx_or_request
        request = ctx_or_request.request
    else:
        request = ctx_or_request
        ctx = getattr(request.state, "page_context", None)
    principal = ctx.principal if ctx is not None else None
    csrf_token = ctx.csrf_token if ctx is not None else ""
    if principal is None:
        try:
            principal = page_principal(request)
        except Exception:
            principal = None
        if principal is not None:
            settings = request.app.state.settings
            session_token = request.cookies.get(SESSION_COOKIE, "")
            csrf_token = csrf_token_for(session_token, key=settings.signing_key())
    title = TITLES.get(status, "Something went wrong")
    return _page(
        request,
        principal,
        csrf_token,
        ctx,
        "error.html",
        status,
        {"status": status, "title": title, "message": message},
    )
