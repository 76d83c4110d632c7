"""The data plane: "this entity's prediction of this type", for every surface and page.

One rule decides whether a stored prediction is still the answer (`find_valid`): it is
ACTIVE, inside its validity window, made by the model that serves the entity now (the active
model, or the challenger its sticky split routes the entity to; or the version asked for), it
carries its explanation when one is wanted, and it is no older than an optional maximum age.
Otherwise (or when forced) the entity is scored by that model, recorded through the one
recording path (`predictions.service.record_run`, which supersedes the older ones) and
committed, so the next call on any surface finds it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, TypedDict, Unpack

import sqlalchemy as sa
from sqlalchemy.orm import Session, defer

from propensity.crm.lookup import parse_id
from propensity.db import UTCDateTime, tenant_matches, tenant_scalars
from propensity.errors import NotFound, Unavailable
from propensity.metrics import PREDICTIONS
from propensity.models import ModelStatus, ModelVersion, Prediction, PredictionStatus
from propensity.serving.fresh import score_fresh
from propensity.serving.routing import (
    CHAMPION,
    REQUESTED,
    RULES,
    SCORABLE,
    ServingModels,
    serving_models,
    serving_models_or_none,
)
from propensity.settings import Settings
from propensity.vocabulary import Population, PredictionType

LIGHT = (
    defer(Prediction.outputs),
    defer(Prediction.contributions),
    defer(Prediction.explanation),
)
# Entity ids per IN list: well under every backend's bound-parameter limit.
ID_CHUNK = 5000
# Given the entities that need a fresh prediction, in order, returns those that may get one now
# (a quota spent one entity at a time); the others get no answer.
Admit = Callable[[list[int]], list[int]]
# Called with the number of fresh predictions about to be made (quotas count those only).
Spend = Callable[[int], None]


@dataclass(frozen=True)
class Served:
    """One entity's answer: the stored prediction, the model that made it (None for the
    rule-based scorer), its role, and whether it was served from what was stored."""

    prediction: Prediction
    model: ModelVersion | None
    role: str
    cached: bool
    # Measured scoring time of a fresh prediction (its share of the run), else None.
    latency_ms: float | None = None


def subject_column(population: str) -> sa.orm.InstrumentedAttribute[int | None]:
    return Prediction.lead_id if population == Population.LEAD.value else Prediction.customer_id


def find_valid(
    session: Session,
    *,
    prediction_type: PredictionType,
    population: str,
    serving: dict[int, int | None],
    now: datetime,
    explained: bool = True,
    max_age: timedelta | None = None,
    light: bool = False,
) -> dict[int, Prediction]:
    """The one validity rule. `serving` maps each entity id to the id of the model version
    that serves it now (None: the rule-based scorer). Returns the entities whose stored
    prediction is still the answer, with it."""
    found: dict[int, Prediction] = {}
    ids = list(serving)
    query = _valid_query(
        population=population, explained=explained, aged=max_age is not None, light=light
    )
    params: dict[str, Any] = {"prediction_type": prediction_type.value, "now": now}
    if max_age is not None:
        params["oldest"] = now - max_age
    for start in range(0, len(ids), ID_CHUNK):
        rows = tenant_scalars(session, query, {**params, "ids": ids[start : start + ID_CHUNK]})
        seen: set[int] = set()
        for prediction in rows:
            entity_id = _entity_of(prediction, population)
            # Only the newest ACTIVE one can be current: recording supersedes the older ones.
            if entity_id in seen:
                continue
            seen.add(entity_id)
            wanted = serving[entity_id]
            if wanted is None:
                if prediction.model_version_id is None and prediction.served_by == RULES:
                    found[entity_id] = prediction
            elif prediction.model_version_id == wanted:
                found[entity_id] = prediction
    return found


@cache
def _valid_query(
    *, population: str, explained: bool, aged: bool, light: bool
) -> sa.Select[Prediction]:
    """find_valid's statement, built once per shape (parameters: ids, prediction_type, now,
    oldest): building it took as long as running it."""
    conditions = [
        tenant_matches(Prediction.tenant_id),
        subject_column(population).in_(sa.bindparam("ids", expanding=True)),
        Prediction.prediction_type == sa.bindparam("prediction_type", type_=sa.String),
        Prediction.status == PredictionStatus.ACTIVE.value,
        Prediction.valid_until > sa.bindparam("now", type_=UTCDateTime),
    ]
    if explained:
        # Batch runs store the narrative only for the entities at risk; the others are
        # scored afresh when someone asks for their explanation.
        conditions.append(Prediction.explanation.is_not(None))
    if aged:
        conditions.append(Prediction.predicted_at >= sa.bindparam("oldest", type_=UTCDateTime))
    query = (
        sa.select(Prediction)
        .where(*conditions)
        .order_by(Prediction.predicted_at.desc(), Prediction.id.desc())
    )
    # A portfolio ranks thousands of answers by their numbers and shows a page of them:
    # decoding every row's JSON was most of its cost. The page's rows load theirs on access.
    return query.options(*LIGHT) if light else query


def _entity_of(prediction: Prediction, population: str) -> int:
    entity_id = (
        prediction.lead_id if population == Population.LEAD.value else prediction.customer_id
    )
    assert entity_id is not None
    return entity_id


def latest_recorded(
    session: Session,
    *,
    prediction_type: PredictionType,
    population: str,
    entity_ids: Sequence[int],
    as_of: datetime,
) -> dict[int, Prediction]:
    """The predictions a run at `as_of` recorded for these entities."""
    subject = subject_column(population)
    ids = list(entity_ids)
    out: dict[int, Prediction] = {}
    for start in range(0, len(ids), ID_CHUNK):
        rows = session.scalars(
            sa.select(Prediction)
            .where(
                subject.in_(ids[start : start + ID_CHUNK]),
                Prediction.prediction_type == prediction_type.value,
                Prediction.status == PredictionStatus.ACTIVE.value,
                Prediction.predicted_at == as_of,
            )
            .order_by(Prediction.id.desc())
        )
        for prediction in rows:
            out.setdefault(_entity_of(prediction, population), prediction)
    return out


def requested_version(
    session: Session, *, prediction_type: PredictionType, population: str, requested: str
) -> ModelVersion:
    """A scorable version of this type and population by its id or as "vN"."""
    text = requested.strip()
    query = sa.select(ModelVersion).where(
        ModelVersion.prediction_type == prediction_type.source.value,
        ModelVersion.population == population,
        ModelVersion.status.in_(SCORABLE),
    )
    number = parse_id(text[1:]) if text[:1] in ("v", "V") else None
    version_id = parse_id(text)
    if number is not None:
        query = query.where(ModelVersion.version_number == number)
    elif version_id is not None:
        query = query.where(ModelVersion.id == version_id)
    else:
        query = query.where(sa.false())
    version = session.scalars(query.limit(1)).first()
    if version is None:
        raise NotFound(
            "ML model not found",
            code="MODEL_NOT_FOUND",
            details={
                "modelId": text,
                "hint": f"Give a {prediction_type.source.value} {population} model's id "
                "or its version as vN",
            },
        )
    return version


def serve_many(
    session: Session,
    *,
    prediction_type: PredictionType,
    population: str,
    entity_ids: Sequence[int],
    now: datetime,
    settings: Settings,
    force: bool = False,
    explained: bool = True,
    max_age: timedelta | None = None,
    version: ModelVersion | None = None,
    spend: Spend | None = None,
    admit: Admit | None = None,
    deadline_ms: float | None = None,
    run_deadline_ms: float | None = None,
) -> dict[int, Served]:
    """Each entity's answer by the model that serves it (or by `version` when one was asked
    for), served from what was stored when still valid, otherwise scored, recorded and
    committed. The entities must exist in the caller's tenant (the caller looked them up).

    Entities that need a fresh prediction go through `admit` first, when given (a quota
    spent entity by entity): those it refuses get no answer and nothing is recorded for them;
    so does an entity that cannot be scored now (no features at this time).
    `spend` is called once with the number of fresh predictions before any is made; with
    `deadline_ms`, fresh scoring slower than that per entity raises ScoringTimedOut and
    nothing is recorded; `run_deadline_ms` is the same for the fresh scoring of all the
    entities together (a many-entity request's timeout)."""
    ids = list(dict.fromkeys(int(i) for i in entity_ids))
    if not ids:
        return {}
    route: dict[int, tuple[ModelVersion, str]]
    if version is not None:
        models: ServingModels | None = None
        role = CHAMPION if version.status == ModelStatus.ACTIVE.value else REQUESTED
        route = {i: (version, role) for i in ids}
    else:
        models = serving_models(session, prediction_type=prediction_type, population=population)
        route = models.route(ids)
    cached = (
        {}
        if force
        else find_valid(
            session,
            prediction_type=prediction_type,
            population=population,
            serving={i: v.id for i, (v, _) in route.items()},
            now=now,
            explained=explained,
            max_age=max_age,
        )
    )
    out = {i: Served(p, route[i][0], route[i][1], True) for i, p in cached.items()}
    missing = [i for i in ids if i not in cached]
    if admit is not None and missing:
        missing = admit(missing)
    if not missing:
        _count(prediction_type, out)
        return out
    if spend is not None:
        spend(len(missing))
    groups: dict[int, list[int]] = {}
    for i in missing:
        groups.setdefault(route[i][0].id, []).append(i)
    fresh = score_fresh(
        session,
        groups=[(*route[group[0]], group) for group in groups.values()],
        now=now,
        settings=settings,
        deadline_ms=deadline_ms,
        run_deadline_ms=run_deadline_ms,
        run_model=models.active if models is not None else None,
    )
    for i, answer in fresh.items():
        out[i] = Served(answer.prediction, route[i][0], route[i][1], False, answer.share)
    _count(prediction_type, out)
    return out


def _count(prediction_type: PredictionType, served: dict[int, Served]) -> None:
    """The answers in the metrics: by type, source and fresh or cached."""
    tally: dict[tuple[str, str], int] = {}
    for answer in served.values():
        key = ("rules" if answer.role == RULES else "model", "cached" if answer.cached else "fresh")
        tally[key] = tally.get(key, 0) + 1
    for (source, how), n in tally.items():
        count_answers(prediction_type, source=source, served=how, n=n)


def count_answers(prediction_type: PredictionType, *, source: str, served: str, n: int = 1) -> None:
    """`n` answers in the metrics, by type, source (model or rules) and fresh or cached."""
    PREDICTIONS.labels(type=prediction_type.value, source=source, served=served).inc(n)


class ServeOptions(TypedDict, total=False):
    """How serve answers one entity: serve_many's options (see there)."""

    force: bool
    explained: bool
    max_age: timedelta | None
    version: ModelVersion | None
    spend: Spend | None
    deadline_ms: float | None


def serve(
    session: Session,
    *,
    prediction_type: PredictionType,
    population: str,
    entity_id: int,
    now: datetime,
    settings: Settings,
    **options: Unpack[ServeOptions],
) -> Served:
    """One entity's answer: serve_many for one; 503 PREDICTION_FAILED when it cannot be
    scored now."""
    served = serve_many(
        session,
        prediction_type=prediction_type,
        population=population,
        entity_ids=[entity_id],
        now=now,
        settings=settings,
        **options,
    ).get(int(entity_id))
    if served is None:
        raise Unavailable(
            "Could not be scored: no features at this time",
            code="PREDICTION_FAILED",
            details={"entityId": int(entity_id), "predictionType": prediction_type.value},
        )
    return served


def current_many(
    session: Session,
    *,
    prediction_type: PredictionType,
    population: str,
    entity_ids: Sequence[int],
    now: datetime,
    explained: bool = False,
    rules: bool = False,
    light: bool = False,
) -> dict[int, Served]:
    """Each entity's valid stored answer, without scoring (cached=True); entities without
    one are left out, and so is every entity when no model of the type is trained for the
    population. With `rules`, an entity with no valid answer by its model may be answered by
    a valid rule-based one (the lead document's scorer); with `light`, the predictions'
    outputs, contributions and explanation load only when read. What portfolio, ranked and candidate
    reads filter and rank, so that a prediction made by any path is theirs."""
    ids = list(dict.fromkeys(int(i) for i in entity_ids))
    models = serving_models_or_none(session, prediction_type=prediction_type, population=population)
    found: dict[int, Served] = {}
    if models is not None:
        route = models.route(ids)
        valid = find_valid(
            session,
            prediction_type=prediction_type,
            population=population,
            serving={i: version.id for i, (version, _) in route.items()},
            now=now,
            explained=explained,
            light=light,
        )
        found.update(
            (i, Served(prediction, route[i][0], route[i][1], True))
            for i, prediction in valid.items()
        )
    if rules:
        by_rules = find_valid(
            session,
            prediction_type=prediction_type,
            population=population,
            serving={i: None for i in ids if i not in found},
            now=now,
            explained=explained,
            light=light,
        )
        found.update((i, Served(p, None, RULES, True)) for i, p in by_rules.items())
    return found


def current(
    session: Session,
    *,
    prediction_type: PredictionType,
    population: str,
    entity_id: int,
    now: datetime,
    explained: bool = False,
) -> Served | None:
    """The entity's valid stored answer, without scoring; None when there is none (or no
    model is trained)."""
    return current_many(
        session,
        prediction_type=prediction_type,
        population=population,
        entity_ids=[entity_id],
        now=now,
        explained=explained,
    ).get(int(entity_id))
