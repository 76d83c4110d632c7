"""`GET /api/ml/config` and `PUT /api/ml/config` (admin only): the tenant's ML configuration
(propensity.mlconfig), with the active CONVERSION model and the fallback scorer.

Where it applies: `scoring.maxBatchSize` bounds batch-score and predict/conversion,
`scoring.timeout` raises PREDICTION_TIMEOUT, `scoring.caching` drives the score cache
(scores.py); training and monitoring thresholds are read by retraining and alerts.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from propensity.db import Session
from propensity.deps import Admin, TenantSession, Viewer
from propensity.errors import InvalidInput
from propensity.mlconfig import MlConfig, load_ml_config, update_ml_config
from propensity.models import ModelVersion
from propensity.registry.service import active_version
from propensity.surfaces.ml_platform.common import limited, model_label, ok
from propensity.surfaces.ml_platform.schemas import ConfigUpdate
from propensity.vocabulary import Population, PredictionType

router = APIRouter()

# The lead-ml surface's documented rule-based scorer answers when no trained model does
# (`ruleBasedOnly` there).
FALLBACK_MODEL = "rule_based"
# Parts of GET's answer that are not settings: they report which model is active.
READ_ONLY = ("activeModel", "activeModelVersion", "fallbackModel")


def active_conversion_model(session: Session) -> ModelVersion | None:
    return active_version(
        session, prediction_type=PredictionType.CONVERSION.value, population=Population.LEAD.value
    )


def read_only(active: ModelVersion | None) -> dict[str, Any]:
    return {
        "activeModel": None if active is None else str(active.id),
        "activeModelVersion": None if active is None else model_label(active),
        "fallbackModel": FALLBACK_MODEL,
    }


def config_body(active: ModelVersion | None, config: MlConfig) -> dict[str, Any]:
    return {**read_only(active), **config.model_dump()}


@router.get("/config")
def get_config(
    principal: Viewer,
    session: TenantSession,
    _limit: Annotated[None, Depends(limited("management"))],
) -> dict[str, Any]:
    config = load_ml_config(session, tenant_id=principal.tenant_id)
    return ok(config_body(active_conversion_model(session), config))


@router.put("/config")
def put_config(
    principal: Admin,
    session: TenantSession,
    _limit: Annotated[None, Depends(limited("management"))],
    body: Annotated[ConfigUpdate | None, Body()] = None,
) -> dict[str, Any]:
    """Merges the sent parts into the configuration; the whole is validated before anything
    is stored, so an invalid value is a 400 naming the field and changes nothing. What GET
    answered can be sent back as it is: the read-only parts must equal the current ones."""
    active = active_conversion_model(session)
    patch = None if body is None else settings_only(body.model_dump(exclude_unset=True), active)
    config = update_ml_config(session, tenant_id=principal.tenant_id, patch=patch)
    return ok(config_body(active, config))


def settings_only(patch: dict[str, Any], active: ModelVersion | None) -> dict[str, Any]:
    """The patch without GET's read-only parts, which may only repeat their current values
    (a client's GET-modify-PUT round trip); changing them here is a 400 saying where."""
    current = read_only(active)
    changed = [k for k in READ_ONLY if k in patch and patch[k] != current[k]]
    if changed:
        raise InvalidInput(
            f"{', '.join(changed)} cannot be set here: activate a model with PUT "
            "/api/ml/models/{modelId}/status or deploy it with POST .../deploy",
            code="VALIDATION_ERROR",
            details={"fields": changed, "current": {k: current[k] for k in changed}},
        )
    return {k: v for k, v in patch.items() if k not in READ_ONLY}
