"""Who is calling: the document requires a user (401 `User authentication required`) and a
tenant context (`X-Tenant-ID`, 400 `Tenant context required`), checked in that order."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from propensity.deps import AppDatabase, AppSettings, get_principal
from propensity.errors import InvalidInput, Unauthenticated
from propensity.models import Role
from propensity.surfaces.context import SurfaceContext, surface_context
from propensity.tenancy.service import Principal

CsContext = SurfaceContext


async def _principal(request: Request, database: AppDatabase, settings: AppSettings) -> Principal:
    try:
        principal = await get_principal(request, database, settings)
    except Unauthenticated as exc:
        raise Unauthenticated("User authentication required", code="AUTH_REQUIRED") from exc
    if not (request.headers.get("x-tenant-id") or "").strip():
        raise InvalidInput(
            "Tenant context required",
            code="TENANT_REQUIRED",
            details={"hint": "Send the X-Tenant-ID header with your tenant's id or slug"},
        )
    return principal


# Predictions are a viewer's to read and refresh (a refresh is what the document's "get or
# generate" endpoints do anyway); creating CTAs and portfolio-wide operations need an analyst.
ReadContext = Annotated[CsContext, Depends(surface_context(Role.VIEWER, principal=_principal))]
WriteContext = Annotated[CsContext, Depends(surface_context(Role.ANALYST, principal=_principal))]
