"""Champion/challenger routing (ADR 0008): which model serves an entity while a deployment runs.

An entity goes to the challenger when a stable hash of (deployment id, entity id), read as a
number in [0, 1), is below the traffic split. The hash (SHA-256, not Python's salted `hash`)
is the same in every process and on every call, so an entity is always served by the same
model for the life of the deployment; including the deployment id means each new test draws
a fresh, independent sample instead of always sending the same entities to challengers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.models import Deployment, DeploymentStatus

_SCALE = float(2**64)


def bucket(deployment_id: int, entity_id: int) -> float:
    """The entity's position in [0, 1) for this deployment."""
    digest = hashlib.sha256(f"{deployment_id}:{entity_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def to_challenger(deployment_id: int, split: float, entity_ids: Iterable[int]) -> np.ndarray:
    """A boolean mask over `entity_ids`: True where the challenger serves the entity."""
    return np.fromiter(
        (bucket(deployment_id, int(entity_id)) < split for entity_id in entity_ids), dtype=bool
    )


def running_deployment(
    session: Session, *, prediction_type: str, population: str
) -> Deployment | None:
    """The tenant's running deployment for this type and population (at most one runs)."""
    return session.scalars(
        sa.select(Deployment)
        .where(
            Deployment.prediction_type == prediction_type,
            Deployment.population == population,
            Deployment.status == DeploymentStatus.RUNNING.value,
        )
        .order_by(Deployment.id.desc())
    ).first()
