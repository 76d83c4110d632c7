"""Status changes and deletion of model versions through the model API.

Allowed changes (anything else is 409 INVALID_STATUS_TRANSITION naming the allowed ones):
* inactive -> active: becomes the champion; the version it replaces becomes inactive.
* active -> inactive: nothing serves the type until another version is activated.
* inactive or failed -> retired: kept for history, never served again (retired is final).
* a status to itself: no change, still recorded with its reason.
An active version cannot be retired directly (deactivate or replace it first), and training
versions change only when their job ends. Only versions that are not active, training or in
a running deployment can be deleted; their artifact goes with them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import utcnow
from propensity.errors import Conflict
from propensity.models import (
    Deployment,
    DeploymentStatus,
    ModelArtifact,
    ModelStatus,
    ModelVersion,
    Prediction,
    PredictionStatus,
)
from propensity.registry.service import activate

TRANSITIONS: dict[str, tuple[str, ...]] = {
    ModelStatus.INACTIVE.value: (ModelStatus.ACTIVE.value, ModelStatus.RETIRED.value),
    ModelStatus.ACTIVE.value: (ModelStatus.INACTIVE.value,),
    ModelStatus.FAILED.value: (ModelStatus.RETIRED.value,),
    ModelStatus.TRAINING.value: (),
    ModelStatus.RETIRED.value: (),
}
SETTABLE = (ModelStatus.ACTIVE.value, ModelStatus.INACTIVE.value, ModelStatus.RETIRED.value)


def _in_running_deployment(session: Session, version: ModelVersion) -> int | None:
    return session.scalar(
        sa.select(Deployment.id).where(
            Deployment.status == DeploymentStatus.RUNNING.value,
            sa.or_(
                Deployment.champion_version_id == version.id,
                Deployment.challenger_version_id == version.id,
            ),
        )
    )


def _refuse_when_deployed(session: Session, version: ModelVersion) -> None:
    """Conflict when the version is the champion or the challenger of a running test."""
    running = _in_running_deployment(session, version)
    if running is not None:
        raise Conflict(
            "The model is part of a running deployment: evaluate or roll it back first",
            code="DEPLOYMENT_RUNNING",
            details={"modelId": version.id, "deploymentId": running},
        )


def change_status(
    session: Session, *, version: ModelVersion, status: str, reason: str, user_id: int | None
) -> ModelVersion:
    current = version.status
    if status != current:
        allowed = TRANSITIONS.get(current, ())
        if status not in allowed:
            raise Conflict(
                f"Cannot change a model from '{current}' to '{status}'"
                + (f"; from '{current}' it can become: {', '.join(allowed)}" if allowed else ""),
                code="INVALID_STATUS_TRANSITION",
                details={"modelId": version.id, "from": current, "to": status, "allowed": allowed},
            )
        _refuse_when_deployed(session, version)
        if status == ModelStatus.ACTIVE.value:
            activate(session, version=version)
        else:
            version.status = status
    version.status_history = [
        *(version.status_history or []),
        {
            "from": current,
            "to": status,
            "reason": reason,
            "at": utcnow().isoformat(),
            "by": user_id,
        },
    ]
    return version


def set_status(
    session: Session, *, version: ModelVersion, status: str, reason: str, user_id: int | None
) -> ModelVersion:
    """`change_status` as a unit of work of its own (the model API's status change): commits,
    and returns the version in its new status."""
    change_status(session, version=version, status=status, reason=reason, user_id=user_id)
    session.commit()
    return version


def delete_version(session: Session, *, version: ModelVersion) -> None:
    """Deletes an inactive version and its artifact, and commits. Its predictions stay for
    history with no model; those still ACTIVE (a challenger's leads after a rollback, a model
    scored on request) are superseded first, so no cached answer is served from a model that
    is gone and the next request scores afresh with the active one."""
    if version.status in (ModelStatus.ACTIVE.value, ModelStatus.TRAINING.value):
        raise Conflict(
            f"Only inactive models can be deleted; this one is {version.status}",
            code="MODEL_IN_USE",
            details={"modelId": version.id, "status": version.status},
        )
    _refuse_when_deployed(session, version)
    session.execute(
        sa.update(Prediction)
        .where(
            Prediction.model_version_id == version.id,
            Prediction.status == PredictionStatus.ACTIVE.value,
        )
        .values(status=PredictionStatus.SUPERSEDED.value)
        .execution_options(synchronize_session=False)
    )
    session.execute(sa.delete(ModelArtifact).where(ModelArtifact.model_version_id == version.id))
    session.delete(version)
    session.commit()
