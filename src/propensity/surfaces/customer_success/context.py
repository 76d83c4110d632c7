"""Who is calling: the document requires a user (401 `User authentication required`) and a
tenant context (`X-Tenant-ID`, 400 `Tenant context required`), checked in that order."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from propensity.deps import AppDatabase, AppSettings, get_principal
from propensity.errors import Forbidden, InvalidInput, Unauthenticated
from propensity.settings import Settings
from propensity.tenancy.models import Role
from propensity.tenancy.service import Principal


@dataclass(frozen=True)
class CsContext:
    principal: Principal
    session: Session
    settings: Settings

    @property
    def user_id(self) -> int | None:
        return self.principal.user_id


def _principal(request: Request, database: AppDatabase, settings: AppSettings) -> Principal:
    try:
        principal = get_principal(request, database, settings)
    except Unauthenticated as exc:
        raise Unauthenticated("User authentication required", code="AUTH_REQUIRED") from exc
    if not (request.headers.get("x-tenant-id") or "").strip():
        raise InvalidInput(
            "Tenant context required",
            code="TENANT_REQUIRED",
            details={"hint": "Send the X-Tenant-ID header with your tenant's id or slug"},
        )
    return principal


def _context(role: Role) -> Callable[..., AsyncIterator[CsContext]]:
    # Async so that FastAPI does not spend two thread-pool hops entering and leaving it:
    # it does no I/O on entry, and its exit only ends a transaction.
    async def dependency(
        principal: Annotated[Principal, Depends(_principal)],
        database: AppDatabase,
        settings: AppSettings,
    ) -> AsyncIterator[CsContext]:
        if not principal.can(role):
            raise Forbidden(
                f"This action needs the '{role.value}' role; you have '{principal.role.value}'",
                code="FORBIDDEN",
            )
        with database.session(tenant_id=principal.tenant_id) as session:
            try:
                yield CsContext(principal=principal, session=session, settings=settings)
            finally:
                if session.in_transaction():
                    session.rollback()

    return dependency


# Predictions are a viewer's to read and refresh (a refresh is what the document's "get or
# generate" endpoints do anyway); creating CTAs and portfolio-wide operations need an analyst.
ReadContext = Annotated[CsContext, Depends(_context(Role.VIEWER))]
WriteContext = Annotated[CsContext, Depends(_context(Role.ANALYST))]
