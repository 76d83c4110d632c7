"""Monitoring endpoints: `GET /api/ml/models/{modelId}/performance` and `.../drift`
(computed by propensity.monitoring; statistics and thresholds documented there)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from propensity.db import utcnow
from propensity.deps import TenantSession, Viewer
from propensity.monitoring.compare import check_metrics
from propensity.monitoring.performance import parse_period
from propensity.monitoring.report import model_performance
from propensity.monitoring.service import model_drift
from propensity.surfaces.ml_platform.common import limited, ok
from propensity.surfaces.ml_platform.models_monitoring_lookup import comma_list, version_or_404

router = APIRouter()

METRICS = (
    "predictionCount",
    "averageLatency",
    "errorRate",
    "accuracy",
    "precision",
    "recall",
    "validatedPredictions",
    "driftScore",
)


@router.get("/models/{model_id}/performance")
def get_performance(
    model_id: str,
    principal: Viewer,
    session: TenantSession,
    _limit: Annotated[None, Depends(limited("analytics"))],
    period: Annotated[str, Query(description="1h, 24h, 7d or 30d")] = "24h",
    metrics: Annotated[str | None, Query(description="Comma-separated metric names")] = None,
) -> dict[str, Any]:
    del principal
    parse_period(period)
    wanted = comma_list(metrics, field="metrics")
    check_metrics(wanted, allowed=METRICS)
    version = version_or_404(session, model_id)
    data = model_performance(session, version=version, period=period)
    data["modelId"] = str(version.id)  # as GET /models names it
    if wanted:
        data["metrics"] = {k: v for k, v in data["metrics"].items() if k in wanted}
    return ok(data)


@router.get("/models/{model_id}/drift")
def get_drift(
    model_id: str,
    principal: Viewer,
    session: TenantSession,
    _limit: Annotated[None, Depends(limited("analytics"))],
) -> dict[str, Any]:
    del principal
    version = version_or_404(session, model_id)
    data = model_drift(session, version=version, as_of=utcnow()).to_dict()
    data["modelId"] = str(version.id)  # as GET /models names it
    return ok(data)
