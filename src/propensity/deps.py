"""FastAPI dependencies: database sessions, the calling principal, role checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from propensity.crm.lookup import MAX_ID
from propensity.db import Database
from propensity.errors import Forbidden, Unauthenticated
from propensity.models import Role
from propensity.settings import Settings
from propensity.tenancy.passwords import API_KEY_PREFIX
from propensity.tenancy.principals import PrincipalCache
from propensity.tenancy.service import Principal, principal_for_api_key, principal_for_user
from propensity.tenancy.tokens import read_token

TOKEN_COOKIES = ("token", "auth_token")

# A database id in a path: a positive 64-bit integer (a larger one would overflow the
# database's integer instead of being "not found"), refused with 400 naming the parameter.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


# Trivial dependencies are `async def` so FastAPI calls them inline instead of handing
# each to the thread pool (a hop costs more than these functions do).
async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


AppSettings = Annotated[Settings, Depends(get_settings_dep)]
AppDatabase = Annotated[Database, Depends(get_database)]


def _presented_credential(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if api_key := request.headers.get("x-api-key"):
        return api_key.strip()
    for cookie in TOKEN_COOKIES:
        if cookie_value := request.cookies.get(cookie):
            return cookie_value
    return None


def _resolve(database: Database, settings: Settings, credential: str) -> Principal:
    with database.session(system=True) as session, session.begin():
        if credential.startswith(API_KEY_PREFIX):
            return principal_for_api_key(session, secret=credential)
        claims = read_token(credential, key=settings.signing_key())
        return principal_for_user(session, user_id=claims.user_id, tenant_id=claims.tenant_id)


def _principals(request: Request) -> PrincipalCache:
    cache: PrincipalCache | None = getattr(request.app.state, "principals", None)
    if cache is None:
        cache = request.app.state.principals = PrincipalCache()
    return cache


async def get_principal(
    request: Request, database: AppDatabase, settings: AppSettings
) -> Principal:
    """The caller: remembered for a few seconds per credential (tenancy/principals.py), so a
    cached answer costs no database round trip and no thread hop to know who asks."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    credential = _presented_credential(request)
    if credential is None:
        raise Unauthenticated("Access token required", code="AUTH_REQUIRED")
    principals = _principals(request)
    principal = principals.get(credential)
    if principal is None:
        principal = await run_in_threadpool(_resolve, database, settings, credential)
        principals.put(credential, principal)
    requested = request.headers.get("x-tenant-id")
    if requested is not None and requested.strip() not in {
        str(principal.tenant_id),
        principal.tenant_slug,
    }:
        raise Forbidden("X-Tenant-ID does not match your tenant", code="TENANT_MISMATCH")
    request.state.principal = principal
    return principal


def principal_of(request: Request) -> Principal:
    """get_principal for code already running in a worker thread (a sync dependency placed
    after authentication): usually the request's resolved principal."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    credential = _presented_credential(request)
    if credential is None:
        raise Unauthenticated("Access token required", code="AUTH_REQUIRED")
    principal = _principals(request).get(credential) or _resolve(
        request.app.state.database, request.app.state.settings, credential
    )
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_role(role: Role) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.can(role):
            raise Forbidden(
                f"This action needs the '{role.value}' role; you have '{principal.role.value}'",
                code="FORBIDDEN",
            )
        return principal

    return check


Viewer = Annotated[Principal, Depends(require_role(Role.VIEWER))]
Analyst = Annotated[Principal, Depends(require_role(Role.ANALYST))]
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]


async def get_tenant_session(
    principal: CurrentPrincipal, database: AppDatabase
) -> AsyncIterator[Session]:
    """A session scoped to the caller's tenant. Writers commit explicitly before responding."""
    # Async, as surface_context is: opening a session does no I/O and leaving it only ends a
    # transaction, so neither is worth the thread-pool hop FastAPI gives a sync generator.
    with database.request_session(principal.tenant_id) as session:
        yield session


TenantSession = Annotated[Session, Depends(get_tenant_session)]
