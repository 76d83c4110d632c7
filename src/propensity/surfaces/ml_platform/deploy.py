"""Deploying a model: `POST /api/ml/models/{modelId}/deploy`, and the deployment's state.

Without `aBTest` (or with `enabled: false`) the model becomes the active one at once; the
model it replaces stays inactive as the rollback target. With an A/B test it becomes the
challenger of the active model (the champion) for `duration`: scoring sends a sticky
`trafficSplit` share of the entities to it (ADR 0008, registry.routing), and the test is
decided by registry.deployments (guardrails during `rollbackPlan.monitoringPeriod`, promotion
or rollback at the end; the `registry.evaluate_deployments` periodic task runs it hourly).

* `GET  /api/ml/models/{modelId}/deployment`: the latest deployment of this model as the
  challenger, with each arm's served and validated predictions.
* `POST /api/ml/models/{modelId}/deployment/evaluate` {"force": false}: evaluates now; with
  force the final decision is taken before the end of the duration.
* `POST /api/ml/models/{modelId}/deployment/rollback` {"reason": "..."}: ends the test now;
  the champion stays.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from propensity.crm.lookup import parse_id
from propensity.db import Session
from propensity.deps import Admin, TenantSession, Viewer
from propensity.errors import NotFound
from propensity.models import Deployment
from propensity.registry.deployments import (
    arm_stats,
    deployment_of,
    evaluate,
    roll_back,
    start_deployment,
)
from propensity.surfaces.ml_platform.common import limited, ok
from propensity.surfaces.ml_platform.models_monitoring_lookup import version_or_404
from propensity.surfaces.ml_platform.models_registry_input import invalid
from propensity.surfaces.ml_platform.schemas import (
    ABTest,
    DeployRequest,
    EvaluateRequest,
    RollbackPlan,
    RollbackRequest,
)
from propensity.timefmt import iso_z

router = APIRouter()
Management = Annotated[None, Depends(limited("management"))]
UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
# Longest test or monitoring period accepted: a quarter.
MAX_PERIOD = timedelta(days=90)


def parse_period(value: str | None, field: str) -> timedelta | None:
    if value is None:
        return None
    match = re.fullmatch(r"\s*(\d{1,4})\s*([mhd])\s*", value)
    if not match:
        raise invalid(f"{field} must look like 30m, 24h or 7d", field)
    period = int(match.group(1)) * UNITS[match.group(2)]
    if not timedelta(0) < period <= MAX_PERIOD:
        raise invalid(f"{field} must be more than 0 and at most 90d", field)
    return period


def _enabled(ab: ABTest) -> bool:
    """`enabled` as sent; when not sent, whether aBTest holds anything at all."""
    if "enabled" not in ab.model_fields_set:
        return bool(ab.model_fields_set or ab.model_extra)
    if ab.enabled is None:
        raise invalid("aBTest.enabled must be true or false", "aBTest.enabled")
    return ab.enabled


def _split(value: float | None) -> float:
    if value is None or not 0 < value < 1:
        raise invalid(
            "aBTest.trafficSplit must be a number between 0 and 1 (exclusive): "
            "the challenger's share of entities",
            "aBTest.trafficSplit",
        )
    return float(value)


def _model_id(value: str | int | None) -> int | None:
    if value is None:
        return None
    parsed = parse_id(str(value).strip())
    if parsed is None:
        raise invalid("rollbackPlan.previousModel must be a model id", "rollbackPlan.previousModel")
    return parsed


def shape(session: Session, deployment: Deployment) -> dict[str, Any]:
    return {
        "deploymentId": deployment.id,
        "status": deployment.status,
        "championModelId": str(deployment.champion_version_id),
        "challengerModelId": str(deployment.challenger_version_id),
        "trafficSplit": deployment.traffic_split,
        "startedAt": iso_z(deployment.started_at),
        "endsAt": iso_z(deployment.ends_at),
        "monitoringUntil": iso_z(deployment.monitoring_until),
        "guardrails": deployment.guardrails,
        "validationResults": deployment.validation_results,
        "decision": deployment.decision,
        "decidedAt": iso_z(deployment.decided_at),
        "arms": {
            arm: arm_stats(session, deployment=deployment, arm=arm).to_dict()
            for arm in ("champion", "challenger")
        },
    }


@router.post("/models/{model_id}/deploy")
def deploy_model(
    model_id: str,
    principal: Admin,
    session: TenantSession,
    _limit: Management,
    body: Annotated[DeployRequest | None, Body()] = None,
) -> dict[str, Any]:
    fields = body or DeployRequest()
    ab = fields.ab_test or ABTest()
    plan = fields.rollback_plan or RollbackPlan()
    enabled = _enabled(ab)
    split = _split(ab.traffic_split) if enabled else None
    duration = parse_period(ab.duration, "aBTest.duration") if enabled else None
    monitoring = parse_period(plan.monitoring_period, "rollbackPlan.monitoringPeriod")
    previous = _model_id(plan.previous_model)
    version = version_or_404(session, model_id)
    deployment = start_deployment(
        session,
        challenger=version,
        traffic_split=split,
        duration=duration,
        monitoring=monitoring,
        previous_model_id=previous,
        validation_results=fields.validation_results or {},
        user_id=principal.user_id,
    )
    return ok({"modelId": str(version.id), **shape(session, deployment)})


def _deployment(session: Session, model_id: str) -> Deployment:
    version = version_or_404(session, model_id)
    deployment = deployment_of(session, version=version)
    if deployment is None:
        raise NotFound(
            "This model has not been deployed",
            code="DEPLOYMENT_NOT_FOUND",
            details={"modelId": model_id},
        )
    return deployment


@router.get("/models/{model_id}/deployment")
def get_deployment(
    model_id: str, principal: Viewer, session: TenantSession, _limit: Management
) -> dict[str, Any]:
    del principal
    return ok(shape(session, _deployment(session, model_id)))


@router.post("/models/{model_id}/deployment/evaluate")
def evaluate_deployment(
    model_id: str,
    principal: Admin,
    session: TenantSession,
    _limit: Management,
    body: Annotated[EvaluateRequest | None, Body()] = None,
) -> dict[str, Any]:
    del principal
    force = (body or EvaluateRequest()).force
    deployment = evaluate(session, deployment=_deployment(session, model_id), force=force)
    return ok(shape(session, deployment))


@router.post("/models/{model_id}/deployment/rollback")
def rollback_deployment(
    model_id: str,
    principal: Admin,
    session: TenantSession,
    _limit: Management,
    body: Annotated[RollbackRequest | None, Body()] = None,
) -> dict[str, Any]:
    del principal
    reason = (body.reason if body is not None else None) or ""
    deployment = roll_back(
        session,
        deployment=_deployment(session, model_id),
        reason=reason.strip() or "rolled back on request",
    )
    return ok(shape(session, deployment))
