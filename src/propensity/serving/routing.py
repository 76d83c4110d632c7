"""Which model serves an entity: the active model of its type and population, or, while a
champion/challenger deployment of that model runs, the challenger for the entities its sticky
split routes to it (ADR 0008). The registry owns the versions and the split; this module is
the one place that puts them together for a request or a batch."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased, defer, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from propensity.db import cache_scope, tenant_matches
from propensity.db_read import tenant_read
from propensity.errors import Unavailable
from propensity.lru import LruCache
from propensity.models import Deployment, DeploymentStatus, ModelStatus, ModelVersion
from propensity.registry.routing import to_challenger
from propensity.registry.service import NEWEST_ACTIVE, active_conditions
from propensity.vocabulary import PredictionType

CHAMPION = "champion"
CHALLENGER = "challenger"
# A version asked for by id that is not the active one (ML platform's `modelId`).
REQUESTED = "requested"
# The lead-ml document's rule-based scorer, which no trained model backs.
RULES = "rules"


@dataclass(frozen=True)
class ServingModels:
    """The active model of a type and population and, during a deployment, its challenger."""

    active: ModelVersion
    challenger: ModelVersion | None = None
    deployment_id: int | None = None
    split: float = 0.0

    def route(self, entity_ids: Iterable[int]) -> dict[int, tuple[ModelVersion, str]]:
        """Entity id -> (the version that serves it, its role)."""
        ids = [int(i) for i in entity_ids]
        if self.challenger is None or self.deployment_id is None:
            return {i: (self.active, CHAMPION) for i in ids}
        mask = to_challenger(self.deployment_id, self.split, ids)
        return {
            i: (self.challenger, CHALLENGER) if routed else (self.active, CHAMPION)
            for i, routed in zip(ids, mask, strict=True)
        }

    def for_entity(self, entity_id: int) -> tuple[ModelVersion, str]:
        return self.route([entity_id])[int(entity_id)]

    @property
    def versions(self) -> dict[int, ModelVersion]:
        out = {self.active.id: self.active}
        if self.challenger is not None:
            out[self.challenger.id] = self.challenger
        return out


def serving_models_or_none(
    session: Session, *, prediction_type: PredictionType, population: str
) -> ServingModels | None:
    """The models serving this type and population now; None when none is trained.

    One statement reads which versions serve (ids and stamps, and the running deployment);
    the versions' rows come from this process's copies while their stamps match (see
    `_VersionCopies`), so a request does not load and decode them again."""
    source = prediction_type.source
    row = tenant_read(
        session, _SERVING, {"prediction_type": source.value, "population": population}
    ).first()
    if row is None:
        return None
    active_id, active_stamp, deployment_id, champion_id, split, challenger_id = row[:6]
    challenger_stamp, challenger_hash = row[6:]
    active = version_copies.attach(session, version_id=active_id, stamp=active_stamp)
    if active is None:
        return None
    # A challenger without an artifact cannot score: it serves nobody.
    if deployment_id is None or champion_id != active_id or challenger_hash is None:
        return ServingModels(active=active)
    challenger = version_copies.attach(session, version_id=challenger_id, stamp=challenger_stamp)
    if challenger is None:
        return ServingModels(active=active)
    return ServingModels(
        active=active,
        challenger=challenger,
        deployment_id=deployment_id,
        split=float(split),
    )


def _serving_statement() -> sa.Select[int, int, int, int, float, int, int, str | None]:
    """Which versions serve a type and population: the active one and the running
    deployment's challenger, ids and stamps. Built once (with parameters): constructing the
    statement with its alias cost more than running it. The deployment is the version's
    tenant's, the challenger the deployment's."""
    challenger = aliased(ModelVersion)
    return (
        sa.select(
            ModelVersion.id,
            ModelVersion.stamp,
            Deployment.id,
            Deployment.champion_version_id,
            Deployment.traffic_split,
            challenger.id,
            challenger.stamp,
            challenger.artifact_hash,
        )
        .outerjoin(
            Deployment,
            sa.and_(
                Deployment.tenant_id == ModelVersion.tenant_id,
                Deployment.prediction_type == ModelVersion.prediction_type,
                Deployment.population == ModelVersion.population,
                Deployment.status == DeploymentStatus.RUNNING.value,
            ),
        )
        .outerjoin(challenger, challenger.id == Deployment.challenger_version_id)
        .where(
            tenant_matches(ModelVersion.tenant_id),
            *active_conditions(
                prediction_type=sa.bindparam("prediction_type", type_=sa.String),
                population=sa.bindparam("population", type_=sa.String),
            ),
        )
        .order_by(NEWEST_ACTIVE, Deployment.id.desc())
        .limit(1)
    )


_SERVING = _serving_statement()


class _VersionCopies:
    """Detached copies of model version rows, by database, tenant, id and stamp.

    Every UPDATE of a version changes its stamp (models/registry.py), so a copy whose stamp
    matches the one just read is the row as stored; a changed row is simply read again under
    its new stamp. A copy is attached to a request's session with `merge(load=False)`: no
    SQL, and the two large JSON columns it never loaded load on first access as before. The
    attached object shares the copy's JSON values: they are replaced, never mutated in place
    (every writer of a version assigns new values)."""

    def __init__(self, limit: int = 512) -> None:
        self._copies: LruCache[tuple[Any, ...], ModelVersion] = LruCache(limit)

    def attach(self, session: Session, *, version_id: int, stamp: int) -> ModelVersion | None:
        key = (*cache_scope(session), version_id, stamp)
        copy = self._copies.get(key)
        if copy is not None:
            return session.merge(copy, load=False)
        version = session.scalars(
            sa.select(ModelVersion)
            .where(ModelVersion.id == version_id)
            .options(defer(ModelVersion.feature_stats), defer(ModelVersion.feature_specs))
        ).first()
        if version is not None and version.stamp == stamp:
            self._copies.put(key, _detached_copy(version))
        return version

    def clear(self) -> None:
        self._copies.clear()


def _detached_copy(version: ModelVersion) -> ModelVersion:
    """A new detached instance with `version`'s loaded column values, unattached to any
    session (the session's own instance stays its own)."""
    state = sa.inspect(version)
    copy: ModelVersion = ModelVersion.__mapper__.class_manager.new_instance()
    for column in ModelVersion.__mapper__.column_attrs:
        if column.key not in state.unloaded:
            set_committed_value(copy, column.key, state.dict.get(column.key))
    make_transient_to_detached(copy)
    return copy


version_copies = _VersionCopies()


def serving_models(
    session: Session, *, prediction_type: PredictionType, population: str
) -> ServingModels:
    """As serving_models_or_none, raising the core's 503 MODEL_UNAVAILABLE when no model of
    the type is trained for the population yet."""
    models = serving_models_or_none(session, prediction_type=prediction_type, population=population)
    if models is None:
        source = prediction_type.source
        raise Unavailable(
            f"No {source.value} model is trained for this tenant's {population}s yet",
            code="MODEL_UNAVAILABLE",
            details={
                "predictionType": source.value,
                "population": population,
                "hint": f"train one (`propensity train {source.value}"
                + (f" --kind {population}`)" if population != "lead" else "`)"),
            },
        )
    return models


# Statuses whose artifact can score: a model still training or that failed has none.
SCORABLE = (ModelStatus.ACTIVE.value, ModelStatus.INACTIVE.value, ModelStatus.RETIRED.value)
