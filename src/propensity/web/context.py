"""Who is looking at a page: the signed-in user, a session scoped to their tenant, the settings
and the CSRF token their forms must carry.

The session cookie holds the same JWT the API accepts (deps.py reads cookie `token`), so the
pages' JavaScript can call the API with it. Forms are protected by a token derived from that
cookie with the signing key (no server-side store): a page of another site can neither read
the cookie nor compute the token, and SameSite=Lax keeps the cookie off its POSTs anyway."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.datastructures import FormData

from propensity.db import Database, Session
from propensity.errors import PropensityError
from propensity.models import Role
from propensity.settings import Settings
from propensity.tenancy.service import Principal, principal_for_user
from propensity.tenancy.tokens import read_token

SESSION_COOKIE = "token"
# Before sign-in there is no session to bind a token to: the login form carries a random
# token that must equal this cookie's (double submit), so another site cannot log a victim
# into the attacker's account.
LOGIN_CSRF_COOKIE = "login_csrf"
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """Not signed in (or the session expired): the page answers 303 to /login?next=..."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url

    @property
    def location(self) -> str:
        return f"/login?next={quote(self.next_url, safe='/')}"


class PageError(PropensityError):
    """An error page in words (403, 404, 409...), raised by page code or its dependencies."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass
class PageContext:
    request: Request
    principal: Principal
    session: Session
    settings: Settings
    csrf_token: str

    @property
    def tenant_id(self) -> int:
        return self.principal.tenant_id

    @property
    def role(self) -> Role:
        return self.principal.role

    def can(self, role: Role) -> bool:
        return self.principal.can(role)

    @property
    def is_analyst(self) -> bool:
        return self.principal.can(Role.ANALYST)

    @property
    def is_admin(self) -> bool:
        return self.principal.can(Role.ADMIN)


def csrf_token_for(session_token: str, *, key: str) -> str:
    digest = hmac.new(key.encode(), b"csrf:" + session_token.encode(), hashlib.sha256)
    return digest.hexdigest()[:40]


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def is_https(request: Request) -> bool:
    # Behind a TLS-terminating proxy the scheme arrives in X-Forwarded-Proto (uvicorn's
    # --proxy-headers rewrites the scope's scheme when the proxy is trusted).
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def _next_url(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


def page_principal(request: Request) -> Principal | None:
    """The signed-in user of the session cookie, re-read so that a deactivated user or a
    changed role takes effect at once; None when there is no valid session."""
    cached: Principal | None = getattr(request.state, "page_principal", None)
    if cached is not None:
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    try:
        claims = read_token(token, key=settings.signing_key())
        with database.system_session() as session:
            principal = principal_for_user(
                session, user_id=claims.user_id, tenant_id=claims.tenant_id
            )
    except PropensityError:
        return None
    request.state.page_principal = principal
    return principal


def page_context(role: Role) -> Callable[[Request], Iterator[PageContext]]:
    """A dependency giving a PageContext to a signed-in user with at least `role`."""

    # Sync, so FastAPI runs it in the thread pool: finding the user reads the database, which
    # must not block the event loop.
    def dependency(request: Request) -> Iterator[PageContext]:
        principal = page_principal(request)
        if principal is None:
            raise LoginRequired(_next_url(request))
        if not principal.can(role):
            raise PageError(
                403,
                f"This page needs the {role.value} role; you are signed in as "
                f"{principal.role.value}. Ask an administrator of your workspace.",
            )
        settings: Settings = request.app.state.settings
        database: Database = request.app.state.database
        token = csrf_token_for(request.cookies[SESSION_COOKIE], key=settings.signing_key())
        with database.request_session(principal.tenant_id) as session:
            ctx = PageContext(request, principal, session, settings, token)
            # Error pages raised later in the request still show the user's navigation.
            request.state.page_context = ctx
            yield ctx

    return dependency


ViewerPage = Annotated[PageContext, Depends(page_context(Role.VIEWER))]
AnalystPage = Annotated[PageContext, Depends(page_context(Role.ANALYST))]
AdminPage = Annotated[PageContext, Depends(page_context(Role.ADMIN))]


async def csrf_form(request: Request) -> FormData:
    """The submitted form, once its CSRF token is checked against the session's (or, on the
    login form, against the login cookie's). Starlette caches the parsed form, so `Form(...)`
    parameters of the same endpoint still read it."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    settings: Settings = request.app.state.settings
    session_token = request.cookies.get(SESSION_COOKIE)
    login_token = request.cookies.get(LOGIN_CSRF_COOKIE)
    expected: list[str] = []
    if session_token:
        expected.append(csrf_token_for(session_token, key=settings.signing_key()))
    if login_token and request.url.path == "/login":
        expected.append(login_token)
    if not isinstance(sent, str) or not any(hmac.compare_digest(sent, token) for token in expected):
        raise PageError(
            403,
            "This form has expired or did not come from this site (its security token is "
            "missing or wrong). Reload the page and submit it again.",
        )
    return form


CsrfForm = Annotated[FormData, Depends(csrf_form)]
