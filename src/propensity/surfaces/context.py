"""The request context surfaces share: the caller, a session scoped to their tenant, and the
settings, behind a role check. Each surface supplies its own way of finding the caller (its
document's 401 wording, required headers)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from fastapi import Depends

from propensity.db import Session
from propensity.deps import AppDatabase, AppSettings
from propensity.errors import Forbidden
from propensity.models import Role
from propensity.settings import Settings
from propensity.tenancy.service import Principal


@dataclass(frozen=True)
class SurfaceContext:
    principal: Principal
    session: Session
    settings: Settings

    @property
    def user_id(self) -> int | None:
        return self.principal.user_id

    @property
    def tenant_id(self) -> int:
        return self.principal.tenant_id


def surface_context(
    role: Role, *, principal: Callable[..., Awaitable[Principal]]
) -> Callable[..., AsyncIterator[SurfaceContext]]:
    """A dependency giving a SurfaceContext to callers with at least `role`, the caller found
    by the `principal` dependency."""

    # Async so that FastAPI does not spend two thread-pool hops entering and leaving it:
    # it does no I/O on entry, and its exit only ends a transaction.
    # `principal` is a closure variable, so it goes in a default (evaluated now) rather than
    # an annotation (a string here, which FastAPI resolves in the module's globals).
    async def dependency(
        database: AppDatabase,
        settings: AppSettings,
        caller: Principal = Depends(principal),
    ) -> AsyncIterator[SurfaceContext]:
        if not caller.can(role):
            raise Forbidden(
                f"This action needs the '{role.value}' role; you have '{caller.role.value}'",
                code="FORBIDDEN",
            )
        with database.request_session(caller.tenant_id) as session:
            yield SurfaceContext(principal=caller, session=session, settings=settings)

    return dependency
