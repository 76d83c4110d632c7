"""Which model serves an entity: the active model of its type and population, or, while a
champion/challenger deployment of that model runs, the challenger for the entities its sticky
split routes to it (ADR 0008). The registry owns the versions and the split; this module is
the one place that puts them together for a request or a batch."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from propensity.errors import Unavailable
from propensity.models import ModelStatus, ModelVersion
from propensity.registry.routing import running_deployment, to_challenger
from propensity.registry.service import active_version
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
    """The models serving this type and population now; None when none is trained."""
    source = prediction_type.source
    active = active_version(session, prediction_type=source.value, population=population)
    if active is None:
        return None
    deployment = running_deployment(session, prediction_type=source.value, population=population)
    if deployment is None or deployment.champion_version_id != active.id:
        return ServingModels(active=active)
    challenger = session.get(ModelVersion, deployment.challenger_version_id)
    # A challenger without an artifact cannot score: it serves nobody.
    if challenger is None or challenger.artifact_hash is None:
        return ServingModels(active=active)
    return ServingModels(
        active=active,
        challenger=challenger,
        deployment_id=deployment.id,
        split=float(deployment.traffic_split),
    )


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
