"""Who is calling: the document accepts a token cookie or a bearer token (the API's other
credentials work too). Its error table has 401 UNAUTHORIZED for missing *or invalid*
authentication and 403 FORBIDDEN for the rest, so an invalid or expired credential (403
INVALID_TOKEN elsewhere in the API) is a 401 here, and an X-Tenant-ID naming another tenant
is 403 FORBIDDEN with the reason in details."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from propensity.deps import AppDatabase, AppSettings, get_principal
from propensity.errors import Forbidden, Unauthenticated
from propensity.models import Role
from propensity.surfaces.context import SurfaceContext, surface_context
from propensity.tenancy.service import Principal

LeadContext = SurfaceContext


HINT = {"hint": "Send `Authorization: Bearer <jwt>` or the `token` cookie"}


async def _principal(request: Request, database: AppDatabase, settings: AppSettings) -> Principal:
    try:
        return await get_principal(request, database, settings)
    except Unauthenticated as exc:
        raise Unauthenticated(
            "Missing or invalid authentication", code="UNAUTHORIZED", details=HINT
        ) from exc
    except Forbidden as exc:
        if exc.code == "INVALID_TOKEN":
            raise Unauthenticated(
                "Missing or invalid authentication", code="UNAUTHORIZED", details=HINT
            ) from exc
        raise Forbidden(
            exc.message, code="FORBIDDEN", details={**exc.details, "reason": exc.code}
        ) from exc


# As on the customer-success surface: a viewer reads and refreshes one lead's predictions;
# configuration-wide scoring (bulk-predict) and recording validations need an analyst.
ReadContext = Annotated[LeadContext, Depends(surface_context(Role.VIEWER, principal=_principal))]
WriteContext = Annotated[LeadContext, Depends(surface_context(Role.ANALYST, principal=_principal))]
