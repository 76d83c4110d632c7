"""Who is calling: the document accepts a token cookie or a bearer token (the API's other
credentials work too); no credential is 401 UNAUTHORIZED in this surface's envelope."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from propensity.deps import AppDatabase, AppSettings, get_principal
from propensity.errors import Unauthenticated
from propensity.surfaces.context import SurfaceContext, surface_context
from propensity.tenancy.models import Role
from propensity.tenancy.service import Principal

LeadContext = SurfaceContext


def _principal(request: Request, database: AppDatabase, settings: AppSettings) -> Principal:
    try:
        return get_principal(request, database, settings)
    except Unauthenticated as exc:
        raise Unauthenticated(
            "Missing or invalid authentication",
            code="UNAUTHORIZED",
            details={"hint": "Send `Authorization: Bearer <jwt>` or the `token` cookie"},
        ) from exc


# As on the customer-success surface: a viewer reads and refreshes one lead's predictions;
# configuration-wide scoring (bulk-predict) and recording validations need an analyst.
ReadContext = Annotated[LeadContext, Depends(surface_context(Role.VIEWER, principal=_principal))]
WriteContext = Annotated[LeadContext, Depends(surface_context(Role.ANALYST, principal=_principal))]
