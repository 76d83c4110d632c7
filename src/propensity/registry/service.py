"""The model registry: versions, their artifacts and which one is active."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from threading import Lock
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, defer

from propensity.db import utcnow
from propensity.errors import Conflict, NotFound
from propensity.models import ModelArtifact, ModelStatus, ModelVersion

T = TypeVar("T")


def next_version_number(session: Session, *, prediction_type: str, population: str) -> int:
    latest = session.scalar(
        sa.select(sa.func.max(ModelVersion.version_number)).where(
            ModelVersion.prediction_type == prediction_type,
            ModelVersion.population == population,
        )
    )
    return int(latest or 0) + 1


def start_version(
    session: Session,
    *,
    prediction_type: str,
    population: str,
    name: str | None = None,
    description: str = "",
    training_config: dict[str, Any] | None = None,
    job_id: str | None = None,
) -> ModelVersion:
    """A new version in status `training`; its number is fixed now so jobs can report it."""
    number = next_version_number(session, prediction_type=prediction_type, population=population)
    version = ModelVersion(
        prediction_type=prediction_type,
        population=population,
        version_number=number,
        name=name or f"{prediction_type.title().replace('_', ' ')} ({population}) v{number}",
        description=description,
        status=ModelStatus.TRAINING.value,
        training_config=training_config or {},
        job_id=job_id,
    )
    session.add(version)
    session.flush()
    return version


def store_artifact(session: Session, *, version: ModelVersion, content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()
    session.add(
        ModelArtifact(
            model_version_id=version.id,
            content=content,
            content_hash=digest,
            size_bytes=len(content),
        )
    )
    version.artifact_hash = digest
    return digest


def get_version(session: Session, *, version_id: int) -> ModelVersion:
    version = session.scalar(sa.select(ModelVersion).where(ModelVersion.id == version_id))
    if version is None:
        raise NotFound(
            "ML model not found", code="MODEL_NOT_FOUND", details={"modelId": version_id}
        )
    return version


def list_versions(
    session: Session,
    *,
    prediction_type: str | None = None,
    population: str | None = None,
    status: str | None = None,
) -> list[ModelVersion]:
    query = sa.select(ModelVersion).order_by(ModelVersion.id.desc())
    if prediction_type:
        query = query.where(ModelVersion.prediction_type == prediction_type)
    if population:
        query = query.where(ModelVersion.population == population)
    if status:
        query = query.where(ModelVersion.status == status)
    return list(session.scalars(query))


def active_version(
    session: Session, *, prediction_type: str, population: str | None = None
) -> ModelVersion | None:
    """The one active model of this type (and population): the registry's only resolver.

    The two large JSON columns (feature statistics and specs, ~60 kB on the demo) load on
    first access: serving reads neither (the artifact has them), and decoding them was a
    fifth of a single-entity request."""
    query = (
        sa.select(ModelVersion)
        .where(*active_conditions(prediction_type=prediction_type, population=population))
        .options(defer(ModelVersion.feature_stats), defer(ModelVersion.feature_specs))
    )
    return session.scalars(query.order_by(NEWEST_ACTIVE).limit(1)).first()


# Activation deactivates the others, so one version is active; should two ever be, the one
# activated last is the answer everywhere.
NEWEST_ACTIVE = ModelVersion.activated_at.desc()


def active_conditions(
    *,
    prediction_type: str | sa.BindParameter[str],
    population: str | sa.BindParameter[str] | None,
) -> list[Any]:
    """The WHERE of "the active version of this type (and population)", ordered by
    NEWEST_ACTIVE: for readers that select more than the version (serving's routing, whose
    statement is built once with parameters)."""
    conditions: list[Any] = [
        ModelVersion.prediction_type == prediction_type,
        ModelVersion.status == ModelStatus.ACTIVE.value,
    ]
    if isinstance(population, sa.BindParameter) or population:
        conditions.append(ModelVersion.population == population)
    return conditions


def activate(session: Session, *, version: ModelVersion) -> ModelVersion:
    """Makes `version` the one active model of its tenant, type and population."""
    if version.status in (ModelStatus.TRAINING.value, ModelStatus.FAILED.value):
        raise Conflict(
            f"A model in status '{version.status}' cannot be activated",
            code="MODEL_NOT_READY",
            details={"modelId": version.id, "status": version.status},
        )
    session.execute(
        sa.update(ModelVersion)
        .where(
            ModelVersion.prediction_type == version.prediction_type,
            ModelVersion.population == version.population,
            ModelVersion.status == ModelStatus.ACTIVE.value,
            ModelVersion.id != version.id,
        )
        .values(status=ModelStatus.INACTIVE.value)
        .execution_options(synchronize_session="fetch")
    )
    version.status = ModelStatus.ACTIVE.value
    version.activated_at = utcnow()
    return version


def load_artifact(session: Session, *, version: ModelVersion) -> bytes:
    artifact = session.scalar(
        sa.select(ModelArtifact).where(ModelArtifact.model_version_id == version.id)
    )
    if artifact is None:
        raise NotFound("Model artifact not found", details={"modelId": version.id})
    return artifact.content


class ArtifactCache:
    """Deserialised models, loaded once per process and keyed by content hash.

    Keyed by hash rather than version id, so a cache shared by tenants can never hand one
    tenant's model to another unless the bytes are identical.
    """

    def __init__(self, max_entries: int = 64) -> None:
        self._entries: dict[str, Any] = {}
        self._lock = Lock()
        self._max = max_entries

    def get(self, session: Session, *, version: ModelVersion, loader: Callable[[bytes], T]) -> T:
        key = version.artifact_hash or f"id:{version.id}"
        with self._lock:
            if key in self._entries:
                return self._entries[key]  # type: ignore[no-any-return]
        model = loader(load_artifact(session, version=version))
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = model
        return model

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


artifact_cache = ArtifactCache()
