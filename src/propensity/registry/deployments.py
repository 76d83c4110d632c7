"""Deploying a trained version: at once, or as a champion/challenger test (ADR 0008).

Evaluation compares the two arms on their own validated predictions: those each served since
the deployment started whose outcome is known (`was_accurate` set by predictions.validation).

* Guardrail, checked at every evaluation during the monitoring period (the whole test when none
  was given) and at the end: roll back when
  both arms have at least MIN_VALIDATED validated predictions and the challenger's accuracy is
  more than `accuracyDrop` (ACCURACY_DROP) below the champion's, or when the scoring error rate
  (failed / finished scoring jobs of the type since the start; a failing challenger fails the
  runs it is part of, nothing else records scoring errors) exceeds `maxErrorRate`.
* At the end of the duration: promote when both arms have MIN_VALIDATED validated predictions
  and the challenger is at least as accurate as the champion; roll back when it is less
  accurate; stop (champion stays, reason "inconclusive") when there is too little evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import utcnow
from propensity.errors import Conflict, InvalidInput
from propensity.jobs.stats import scoring_error_rate
from propensity.models import Deployment, DeploymentStatus, ModelStatus, ModelVersion, Prediction
from propensity.registry.routing import running_deployment
from propensity.registry.service import activate, active_version, get_version

MIN_VALIDATED = 30
ACCURACY_DROP = 0.05
MAX_ERROR_RATE = 0.05


@dataclass(frozen=True, kw_only=True)
class ArmStats:
    served: int
    validated: int
    accuracy: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"served": self.served, "validated": self.validated, "accuracy": self.accuracy}


def arm_stats(session: Session, *, deployment: Deployment, arm: str) -> ArmStats:
    version_id = (
        deployment.challenger_version_id if arm == "challenger" else deployment.champion_version_id
    )
    base = sa.and_(
        Prediction.model_version_id == version_id,
        Prediction.served_by == arm,
        Prediction.predicted_at >= deployment.started_at,
    )
    served = session.scalar(sa.select(sa.func.count()).where(base)) or 0
    rows = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.sum(sa.case((Prediction.was_accurate.is_(True), 1), else_=0)),
        ).where(base, Prediction.was_accurate.is_not(None))
    ).one()
    validated, accurate = int(rows[0] or 0), int(rows[1] or 0)
    return ArmStats(
        served=int(served),
        validated=validated,
        accuracy=round(accurate / validated, 4) if validated else None,
    )


# Statuses a model cannot be deployed from: (message, error code).
NOT_DEPLOYABLE = {
    ModelStatus.TRAINING.value: (
        "A model in status '{status}' cannot be deployed",
        "MODEL_NOT_READY",
    ),
    ModelStatus.FAILED.value: (
        "A model in status '{status}' cannot be deployed",
        "MODEL_NOT_READY",
    ),
    ModelStatus.RETIRED.value: ("A retired model cannot be deployed", "INVALID_STATUS_TRANSITION"),
}


def start_deployment(
    session: Session,
    *,
    challenger: ModelVersion,
    traffic_split: float | None,
    duration: timedelta | None,
    monitoring: timedelta | None,
    previous_model_id: int | None,
    validation_results: dict[str, Any],
    user_id: int | None,
) -> Deployment:
    """Starts deploying `challenger` and commits; returns the deployment. `traffic_split`
    None deploys at once: `challenger` becomes the active model and the one it replaces stays
    inactive, the rollback target (recorded as a promoted deployment)."""
    if challenger.status in NOT_DEPLOYABLE:
        message, code = NOT_DEPLOYABLE[challenger.status]
        raise Conflict(
            message.format(status=challenger.status),
            code=code,
            details={"modelId": challenger.id, "status": challenger.status},
        )
    running = running_deployment(
        session, prediction_type=challenger.prediction_type, population=challenger.population
    )
    if running is not None:
        raise Conflict(
            "A deployment is already running for this model type: evaluate or roll it back first",
            code="DEPLOYMENT_RUNNING",
            details={"deploymentId": running.id, "challengerId": running.challenger_version_id},
        )
    champion = active_version(
        session, prediction_type=challenger.prediction_type, population=challenger.population
    )
    if previous_model_id is not None:
        expected = None if champion is None else champion.id
        if previous_model_id != expected:
            raise InvalidInput(
                "rollbackPlan.previousModel must be the model active now "
                f"({'none' if expected is None else expected})",
                code="VALIDATION_ERROR",
                details={"field": "rollbackPlan.previousModel", "activeModelId": expected},
            )
    if traffic_split is not None and champion is not None and champion.id == challenger.id:
        raise Conflict(
            "The model is already the active one: an A/B test needs another model to challenge",
            code="INVALID_STATUS_TRANSITION",
            details={"modelId": challenger.id, "status": challenger.status},
        )
    now = utcnow()
    immediate = traffic_split is None or champion is None
    if not immediate and traffic_split is not None and champion is not None:
        deployment = Deployment(
            prediction_type=challenger.prediction_type,
            population=challenger.population,
            champion_version_id=champion.id,
            challenger_version_id=challenger.id,
            traffic_split=traffic_split,
            status=DeploymentStatus.RUNNING.value,
            started_at=now,
            ends_at=now + (duration or timedelta(days=7)),
            monitoring_until=None if monitoring is None else now + monitoring,
            guardrails=guardrails(),
            validation_results=validation_results,
            created_by_user_id=user_id,
        )
        session.add(deployment)
        session.commit()
        return deployment
    deployment = Deployment(
        prediction_type=challenger.prediction_type,
        population=challenger.population,
        champion_version_id=champion.id if champion is not None else challenger.id,
        challenger_version_id=challenger.id,
        traffic_split=1.0,
        status=DeploymentStatus.PROMOTED.value,
        started_at=now,
        ends_at=now,
        guardrails={},
        validation_results=validation_results,
        decision={"outcome": "promoted", "reason": "deployed without an A/B test"},
        decided_at=now,
        created_by_user_id=user_id,
    )
    activate(session, version=challenger)
    session.add(deployment)
    session.commit()
    return deployment


def guardrails() -> dict[str, Any]:
    return {
        "accuracyDrop": ACCURACY_DROP,
        "maxErrorRate": MAX_ERROR_RATE,
        "minValidated": MIN_VALIDATED,
    }


def evaluate(
    session: Session, *, deployment: Deployment, now: datetime | None = None, force: bool = False
) -> Deployment:
    """Applies the guardrail and, once the duration is over (or `force`), the final decision
    (module docstring), and commits. A deployment that is not running is returned unchanged."""
    if deployment.status != DeploymentStatus.RUNNING.value:
        return deployment
    evaluated = _evaluate(session, deployment=deployment, now=now or utcnow(), force=force)
    session.commit()
    return evaluated


def _evaluate(
    session: Session, *, deployment: Deployment, now: datetime, force: bool
) -> Deployment:
    champion = arm_stats(session, deployment=deployment, arm="champion")
    challenger = arm_stats(session, deployment=deployment, arm="challenger")
    errors = scoring_error_rate(
        session, prediction_type=deployment.prediction_type, start=deployment.started_at, end=now
    )
    limits = deployment.guardrails or guardrails()
    enough = min(champion.validated, challenger.validated) >= int(limits["minValidated"])
    evidence = {
        "champion": champion.to_dict(),
        "challenger": challenger.to_dict(),
        "errorRate": errors,
        "evaluatedAt": now.isoformat(),
    }
    final = force or now >= deployment.ends_at
    # Without a monitoring period the guardrail watches the whole test.
    watching = final or deployment.monitoring_until is None or now <= deployment.monitoring_until
    if watching and errors is not None and errors > float(limits["maxErrorRate"]):
        return _decide(session, deployment, "rolled_back", "error rate above the limit", evidence)
    worse = (
        enough
        and challenger.accuracy is not None
        and champion.accuracy is not None
        and challenger.accuracy < champion.accuracy - float(limits["accuracyDrop"])
    )
    if watching and worse:
        return _decide(
            session, deployment, "rolled_back", "challenger accuracy below guardrail", evidence
        )
    if not final:
        deployment.decision = {"outcome": "running", **evidence}
        return deployment
    if not enough or challenger.accuracy is None or champion.accuracy is None:
        return _decide(
            session, deployment, "stopped", "inconclusive: too few validated predictions", evidence
        )
    if challenger.accuracy >= champion.accuracy:
        return _decide(session, deployment, "promoted", "challenger at least as accurate", evidence)
    return _decide(session, deployment, "rolled_back", "challenger less accurate", evidence)


def roll_back(session: Session, *, deployment: Deployment, reason: str) -> Deployment:
    """Ends a running deployment now, the champion staying active, and commits."""
    if deployment.status != DeploymentStatus.RUNNING.value:
        raise Conflict(
            f"The deployment is already {deployment.status}",
            code="INVALID_STATUS_TRANSITION",
            details={"deploymentId": deployment.id, "status": deployment.status},
        )
    rolled_back = _decide(session, deployment, "rolled_back", reason, {})
    session.commit()
    return rolled_back


def _decide(
    session: Session, deployment: Deployment, outcome: str, reason: str, evidence: dict[str, Any]
) -> Deployment:
    deployment.status = DeploymentStatus(outcome).value
    deployment.decision = {"outcome": outcome, "reason": reason, **evidence}
    deployment.decided_at = utcnow()
    if outcome == DeploymentStatus.PROMOTED.value:
        activate(session, version=get_version(session, version_id=deployment.challenger_version_id))
    return deployment


def due_deployments(session: Session, *, now: datetime) -> list[Deployment]:
    """Running deployments to evaluate now: past their end, watched by the guardrail (in their
    monitoring period, or without one)."""
    return list(
        session.scalars(
            sa.select(Deployment).where(
                Deployment.status == DeploymentStatus.RUNNING.value,
                sa.or_(
                    Deployment.ends_at <= now,
                    Deployment.monitoring_until.is_(None),
                    Deployment.monitoring_until >= now,
                ),
            )
        )
    )


def deployment_of(session: Session, *, version: ModelVersion) -> Deployment | None:
    """The latest deployment in which `version` was the challenger."""
    return session.scalars(
        sa.select(Deployment)
        .where(Deployment.challenger_version_id == version.id)
        .order_by(Deployment.id.desc())
    ).first()
