"""Feature endpoints: `GET /api/ml/features` (metadata and distributions from the active models'
stored training statistics, monitoring/catalog.py) and `GET /api/ml/models/{modelId}/
feature-importance` (the model's global importance; for `leadIds`, exact per-lead SHAP values
computed now on the lead's current features)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from propensity.db import utcnow
from propensity.deps import TenantSession, Viewer
from propensity.errors import InvalidInput
from propensity.monitoring.catalog import feature_catalog
from propensity.monitoring.explain import local_explanations
from propensity.surfaces.ml_platform.common import limited, ok
from propensity.surfaces.ml_platform.models_monitoring_lookup import comma_ints, version_or_404

router = APIRouter()
MAX_LEADS = 50


@router.get("/features")
def get_features(
    principal: Viewer,
    session: TenantSession,
    _limit: Annotated[None, Depends(limited("analytics"))],
    model: Annotated[str | None, Query(description="Only this model's features (its id)")] = None,
) -> dict[str, Any]:
    del principal
    ids = [version_or_404(session, model).id] if model is not None else None
    catalog = feature_catalog(session, model_ids=ids)
    for feature in catalog:
        for used_by in feature.get("models") or []:
            used_by["modelId"] = str(used_by["modelId"])  # as GET /models names it
    return ok(catalog)


@router.get("/models/{model_id}/feature-importance")
def get_feature_importance(
    model_id: str,
    principal: Viewer,
    session: TenantSession,
    _limit: Annotated[None, Depends(limited("analytics"))],
    lead_ids: Annotated[
        str | None, Query(alias="leadIds", description="Comma-separated lead ids")
    ] = None,
) -> dict[str, Any]:
    del principal
    version = version_or_404(session, model_id)
    leads = comma_ints(lead_ids, field="leadIds")
    if len(leads) > MAX_LEADS:
        raise InvalidInput(
            f"leadIds lists {len(leads)} leads; send at most {MAX_LEADS}",
            code="VALIDATION_ERROR",
            details={"field": "leadIds", "max": MAX_LEADS},
        )
    data: dict[str, Any] = {
        "modelId": str(version.id),
        "globalImportance": {
            k: round(float(v), 6) for k, v in (version.feature_importance or {}).items()
        },
        "localImportance": {},
        "shapValues": {},
    }
    if leads:
        explained = local_explanations(session, version=version, lead_ids=leads, as_of=utcnow())
        data.update(explained)
    return ok(data)
