"""`GET /api/ml/config` and `PUT /api/ml/config` (admin only): the tenant's ML configuration
(propensity.mlconfig), with the active CONVERSION model and the fallback scorer.

Where it applies: `scoring.maxBatchSize` bounds batch-score and predict/conversion,
`scoring.timeout` raises PREDICTION_TIMEOUT, `scoring.caching` drives the score cache
(scores_service.py); training and monitoring thresholds are read by retraining and alerts.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from sqlalchemy.orm import Session

from propensity.deps import Admin, TenantSession, Viewer
from propensity.errors import InvalidInput
from propensity.mlconfig import MlConfig, load_ml_config, update_ml_config
from propensity.surfaces.ml_platform.common import limited, ok
from propensity.surfaces.ml_platform.scores_service import active_conversion_model

router = APIRouter()

# The lead-ml surface's documented rule-based scorer (surfaces/lead_ml/rules.py) answers when
# no trained model does (`ruleBasedOnly` there).
FALLBACK_MODEL = "rule_based"
# Parts of GET's answer that are not settings: they report which model is active.
READ_ONLY = ("activeModel", "activeModelVersion", "fallbackModel")


def config_body(session: Session, config: MlConfig) -> dict[str, Any]:
    active = active_conversion_model(session)
    return {
        "activeModel": None if active is None else str(active.id),
        "activeModelVersion": None if active is None else f"v{active.version_number}",
        "fallbackModel": FALLBACK_MODEL,
        **config.model_dump(),
    }


@router.get("/config")
def get_config(
    principal: Viewer,
    session: TenantSession,
    _limit: Annotated[None, Depends(limited("management"))],
) -> dict[str, Any]:
    return ok(config_body(session, load_ml_config(session, tenant_id=principal.tenant_id)))


@router.put("/config")
def put_config(
    principal: Admin,
    session: TenantSession,
    _limit: Annotated[None, Depends(limited("management"))],
    patch: Annotated[Any, Body()] = None,
) -> dict[str, Any]:
    """Merges the sent parts into the configuration; the whole is validated before anything
    is stored, so an invalid value is a 400 naming the field and changes nothing. What GET
    answered can be sent back as it is: the read-only parts must equal the current ones."""
    if isinstance(patch, dict):
        patch = settings_only(session, patch, principal.tenant_id)
    config = update_ml_config(session, tenant_id=principal.tenant_id, patch=patch)
    session.commit()
    return ok(config_body(session, config))


def settings_only(session: Session, patch: dict[str, Any], tenant_id: int) -> dict[str, Any]:
    """The patch without GET's read-only parts, which may only repeat their current values
    (a client's GET-modify-PUT round trip); changing them here is a 400 saying where."""
    sent = {k: patch[k] for k in READ_ONLY if k in patch}
    if not sent:
        return patch
    current = config_body(session, load_ml_config(session, tenant_id=tenant_id))
    changed = [k for k, v in sent.items() if v != current[k]]
    if changed:
        raise InvalidInput(
            f"{', '.join(changed)} cannot be set here: activate a model with PUT "
            "/api/ml/models/{modelId}/status or deploy it with POST .../deploy",
            code="VALIDATION_ERROR",
            details={"fields": changed, "current": {k: current[k] for k in changed}},
        )
    return {k: v for k, v in patch.items() if k not in READ_ONLY}
