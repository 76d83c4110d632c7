"""Who is calling: the document accepts a token cookie or a bearer token (the API's other
credentials work too); no credential is 401 UNAUTHORIZED in this surface's envelope."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from propensity.deps import AppDatabase, AppSettings, get_principal
from propensity.errors import Forbidden, Unauthenticated
from propensity.settings import Settings
from propensity.tenancy.models import Role
from propensity.tenancy.service import Principal


@dataclass(frozen=True)
class LeadContext:
    principal: Principal
    session: Session
    settings: Settings

    @property
    def tenant_id(self) -> int:
        return self.principal.tenant_id


def _principal(request: Request, database: AppDatabase, settings: AppSettings) -> Principal:
    try:
        return get_principal(request, database, settings)
    except Unauthenticated as exc:
        raise Unauthenticated(
            "Missing or invalid authentication",
            code="UNAUTHORIZED",
            details={"hint": "Send `Authorization: Bearer <jwt>` or the `token` cookie"},
        ) from exc


def _context(role: Role) -> Callable[..., AsyncIterator[LeadContext]]:
    # Async like customer_success.context: no I/O on entry, its exit only ends a transaction.
    async def dependency(
        principal: Annotated[Principal, Depends(_principal)],
        database: AppDatabase,
        settings: AppSettings,
    ) -> AsyncIterator[LeadContext]:
        if not principal.can(role):
            raise Forbidden(
                f"This action needs the '{role.value}' role; you have '{principal.role.value}'",
                code="FORBIDDEN",
            )
        with database.session(tenant_id=principal.tenant_id) as session:
            try:
                yield LeadContext(principal=principal, session=session, settings=settings)
            finally:
                if session.in_transaction():
                    session.rollback()

    return dependency


# As on the customer-success surface: a viewer reads and refreshes one lead's predictions;
# configuration-wide scoring (bulk-predict) and recording validations need an analyst.
ReadContext = Annotated[LeadContext, Depends(_context(Role.VIEWER))]
WriteContext = Annotated[LeadContext, Depends(_context(Role.ANALYST))]
