"""What every ML-platform endpoint shares: the success envelope, pagination and the
document's per-class request limits (per tenant, configurable in settings)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from fastapi import Request, Response

from propensity.deps import principal_of
from propensity.models import ModelVersion
from propensity.ratelimit import consume
from propensity.settings import Settings

LIMIT_CLASSES = ("scoring", "batch", "management", "analytics")


def ok(data: Any, **extra: Any) -> dict[str, Any]:
    return {"success": True, "data": data, **extra}


def model_label(version: ModelVersion) -> str:
    """A model's version as the document writes it: "v3"."""
    return f"v{version.version_number}"


def pagination(*, page: int, limit: int, total: int) -> dict[str, int]:
    return {
        "page": page,
        "limit": limit,
        "total": total,
        "totalPages": max(1, math.ceil(total / limit)) if limit else 1,
    }


def limited(kind: str) -> Callable[[Request, Response], None]:
    """A dependency counting the request against the tenant's limit of class `kind`
    (scoring, batch, management or analytics). Place it after authentication."""
    if kind not in LIMIT_CLASSES:
        raise ValueError(f"unknown limit class {kind!r}")

    def check(request: Request, response: Response) -> None:
        count_request(request, response, kind=kind)

    return check


def count_request(request: Request, response: Response, *, kind: str) -> None:
    """What `limited(kind)` does, for an endpoint that counts inside its own worker thread
    (the count may go to a store over the network, so not on the event loop)."""
    settings: Settings = request.app.state.settings
    principal = principal_of(request)
    consume(
        request,
        scope=f"ml-{kind}",
        limit=getattr(settings, f"ml_rate_limit_{kind}"),
        key=f"tenant-{principal.tenant_id}",
        response=response,
    )
