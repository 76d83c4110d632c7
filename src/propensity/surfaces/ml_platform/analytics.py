"""Analytics endpoints: `GET /api/ml/analytics/dashboard` (monitoring/dashboard.py) and
`GET /api/ml/analytics/models/compare` (every model scored on the same rebuilt holdout,
monitoring/compare.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from propensity.db import utcnow
from propensity.deps import TenantSession, Viewer
from propensity.models import ModelStatus
from propensity.monitoring.compare import compare_models
from propensity.monitoring.dashboard import dashboard
from propensity.monitoring.performance import parse_period
from propensity.registry.service import list_versions
from propensity.surfaces.ml_platform.common import limited, ok
from propensity.surfaces.ml_platform.models_monitoring_lookup import (
    comma_ints,
    comma_list,
    version_or_404,
)

router = APIRouter()


@router.get("/analytics/dashboard")
def get_dashboard(
    principal: Viewer,
    session: TenantSession,
    _limit: Annotated[None, Depends(limited("analytics"))],
    period: Annotated[str, Query(description="1h, 24h, 7d or 30d")] = "24h",
    models: Annotated[str | None, Query(description="Comma-separated model ids")] = None,
) -> dict[str, Any]:
    del principal
    parse_period(period)
    ids = comma_ints(models, field="models")
    if ids:
        versions = [version_or_404(session, i) for i in ids]
    else:
        active = list_versions(session, status=ModelStatus.ACTIVE.value)
        versions = sorted(active, key=lambda v: v.id)
    data = dashboard(session, versions=versions, period=period, now=utcnow())
    for row in data.get("modelPerformance") or []:
        row["modelId"] = str(row["modelId"])  # as GET /models names it
    return ok(data)


@router.get("/analytics/models/compare")
def get_comparison(
    principal: Viewer,
    session: TenantSession,
    _limit: Annotated[None, Depends(limited("analytics"))],
    model_ids: Annotated[
        str | None, Query(alias="modelIds", description="Comma-separated model ids")
    ] = None,
    metrics: Annotated[
        str | None, Query(description="accuracy, precision, recall, f1, auc, latency")
    ] = None,
    period: Annotated[str, Query(description="1h, 24h, 7d or 30d (live latency)")] = "24h",
) -> dict[str, Any]:
    del principal
    parse_period(period)
    ids = comma_ints(model_ids, field="modelIds")
    versions = [version_or_404(session, i) for i in ids]
    data = compare_models(
        session,
        versions=versions,
        metrics=comma_list(metrics, field="metrics"),
        period=period,
        now=utcnow(),
    )
    return ok(string_ids(data))


def string_ids(data: dict[str, Any]) -> dict[str, Any]:
    """Model ids as GET /models names them (strings), as the metric tables' keys already are."""
    comparison = data["comparison"]
    comparison["models"] = [str(i) for i in comparison["models"]]
    for entry in comparison["metrics"].values():
        if entry.get("winner") is not None:
            entry["winner"] = str(entry["winner"])
    for recommendation in data.get("recommendations") or []:
        if recommendation.get("model") is not None:
            recommendation["model"] = str(recommendation["model"])
    return data
