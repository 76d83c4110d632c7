"""Signing in and out, and the start page."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from propensity.crm.lookup import populations_present
from propensity.db import Database
from propensity.errors import InvalidInput, Unauthenticated
from propensity.settings import Settings
from propensity.tenancy.service import log_in
from propensity.vocabulary import Population
from propensity.web.context import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfForm,
    ViewerPage,
    is_https,
    new_login_csrf,
    page_principal,
)
from propensity.web.render import render_public

router = APIRouter(include_in_schema=False)


def safe_next(value: str | None) -> str:
    """Only a path on this site: an absolute or scheme-relative URL would make the login page
    an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def _login_page(
    request: Request, *, next_url: str, email: str = "", problem: str = "", status: int = 200
) -> HTMLResponse:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_csrf()
    response = render_public(
        request,
        "login.html",
        status_code=status,
        login_csrf=token,
        next_url=next_url,
        email=email,
        problem_text=problem,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
        path="/login",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    if page_principal(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next_url=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    _form: CsrfForm,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    lifetime = timedelta(minutes=settings.token_lifetime_minutes)
    if not email.strip() or not password:
        return _login_page(
            request,
            next_url=safe_next(next),
            email=email,
            problem="Enter your email address and your password.",
            status=400,
        )
    try:
        signed_in = log_in(
            database, email=email, password=password, key=settings.signing_key(), lifetime=lifetime
        )
    except (Unauthenticated, InvalidInput):
        return _login_page(
            request,
            next_url=safe_next(next),
            email=email,
            problem="That email and password do not match an active user. Check both and try "
            "again.",
            status=401,
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        signed_in.token,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, _form: CsrfForm) -> Response:
    response = RedirectResponse("/login?notice=You+are+signed+out.", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


# The page for each population's work, in the order a user is sent to the first with data.
START_PAGES = (
    (Population.ACCOUNT.value, "/accounts"),
    (Population.LEAD.value, "/leads"),
    (Population.SUBSCRIBER.value, "/subscribers"),
)


@router.get("/")
def home(ctx: ViewerPage) -> Response:
    """The page for the user's work: the accounts of a customer-success team, the leads of a
    sales team, the subscribers of a B2C business; the data page when there is no data yet."""
    present = populations_present(ctx.session)
    for population, path in START_PAGES:
        if population in present:
            return RedirectResponse(path, status_code=303)
    return RedirectResponse("/data", status_code=303)
