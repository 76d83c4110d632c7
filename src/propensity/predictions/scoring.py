"""Scoring: the active model applied to entities, with exact explanations and confidence.

Single and batch scoring are the same code: one entity is a batch of one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from propensity.db import utcnow
from propensity.errors import Unavailable
from propensity.features import ScoringFrame, build_scoring_frame
from propensity.modeling import (
    AnyModel,
    BinaryModel,
    Prepared,
    RegressionModel,
    SurvivalModel,
    load_model,
)
from propensity.models import ModelVersion
from propensity.predictions.narration import narrative_outputs, narrator_for
from propensity.registry.routing import running_deployment, to_challenger
from propensity.registry.service import active_version, artifact_cache
from propensity.vocabulary import PredictionType, parse_trainable, population_of

# Contributions kept per prediction: the largest by magnitude. Group sums and the bias are
# kept whole, so the stored explanation still adds up exactly to the model's output.
TOP_CONTRIBUTIONS = 12
# Health trajectory: a predicted change within this many points is "stable".
TRAJECTORY_TOLERANCE = 3.0


@dataclass(frozen=True, kw_only=True)
class Scored:
    entity_id: int
    external_id: str
    probability: float | None
    predicted_value: float | None
    confidence: float
    outputs: dict[str, Any]
    contributions: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    explanation: str | None = None
    # Set while a champion/challenger deployment runs (ADR 0008); otherwise the run's version
    # (the champion) served the row.
    served_by: str = "champion"
    model_version_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class ScoringRun:
    version: ModelVersion
    as_of: datetime
    results: list[Scored]


def _jsonable(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _json_record(names: list[str], cells: list[Any]) -> dict[str, Any]:
    """One row's cells by feature name as JSON values: `_jsonable`, with plain floats (most
    cells) converted inline, as a row has a hundred of them."""
    return {
        name: (None if cell != cell else cell) if type(cell) is float else _jsonable(cell)
        for name, cell in zip(names, cells, strict=True)
    }


def trajectory(current: float | None, predicted: float) -> str:
    if current is None or math.isnan(current):
        return "unknown"
    change = predicted - current
    if change > TRAJECTORY_TOLERANCE:
        return "improving"
    if change < -TRAJECTORY_TOLERANCE:
        return "declining"
    return "stable"


def resolve_model(
    session: Session, *, prediction_type: str, kind: str | None = None
) -> tuple[ModelVersion, AnyModel]:
    ptype = parse_trainable(prediction_type)
    population = population_of(ptype, kind)
    version = active_version(
        session,
        prediction_type=ptype.value,
        population=None if ptype is PredictionType.CHURN and kind is None else population,
    )
    if version is None:
        raise Unavailable(
            f"No trained {ptype.value} model is active for {population}s yet: train one first",
            code="MODEL_UNAVAILABLE",
            details={"predictionType": ptype.value, "population": population},
        )
    return version, artifact_cache.get(session, version=version, loader=load_model)


def _outputs(
    model: AnyModel,
    rows: int,
    current_scores: np.ndarray | None,
    data: Prepared,
    version: ModelVersion,
) -> tuple[np.ndarray | None, np.ndarray | None, list[dict[str, Any]]]:
    outputs: list[dict[str, Any]]
    if isinstance(model, BinaryModel):
        probability = model.predict_proba(data)
        outputs = [
            {"threshold": model.threshold, "flagged": bool(p >= model.threshold)}
            for p in probability
        ]
        return probability, None, outputs
    if isinstance(model, SurvivalModel):
        median = model.predict_median(data)
        low, high = model.predict_interval(data)
        horizon = float(version.horizon_days or 90)
        within = model.probability_within(data, horizon)
        outputs = [
            {"p10Days": float(low[i]), "p90Days": float(high[i]), "horizonDays": horizon}
            for i in range(rows)
        ]
        return within, median, outputs
    assert isinstance(model, RegressionModel)
    predicted = model.predict(data)
    low, high = model.predict_interval(data)
    current = current_scores if current_scores is not None else np.full(rows, np.nan)
    outputs = [
        {
            "currentScore": _jsonable(float(current[i])),
            "low": float(low[i]),
            "high": float(high[i]),
            "trajectory": trajectory(float(current[i]), float(predicted[i])),
        }
        for i in range(rows)
    ]
    return None, predicted, outputs


def model_frame(
    session: Session,
    *,
    version: ModelVersion,
    model: AnyModel,
    entity_ids: Sequence[int] | None,
    as_of: datetime,
) -> ScoringFrame:
    """The model's features for these entities (or its whole live population) at `as_of`."""
    return build_scoring_frame(
        session,
        prediction_type=version.prediction_type,
        kind=None if version.population == "lead" else version.population,
        entity_ids=entity_ids,
        as_of=as_of,
        mode=str(version.training_summary.get("mode") or "") or None,
        features=[spec.name for spec in model.features],
    )


def score_entities(
    session: Session,
    *,
    prediction_type: str,
    kind: str | None = None,
    entity_ids: list[int] | None = None,
    as_of: datetime | None = None,
) -> ScoringRun:
    """Scores the given entities (or the whole live population) with the active model."""
    version, model = resolve_model(session, prediction_type=prediction_type, kind=kind)
    as_of = as_of or utcnow()
    frame = model_frame(session, version=version, model=model, entity_ids=entity_ids, as_of=as_of)
    route = challenger_route(session, version=version)
    if route is None:
        results = score_frame(model=model, version=version, frame=frame)
        return ScoringRun(version=version, as_of=as_of, results=results)
    champion_frame, challenger_frame = split_frames(session, route=route, frame=frame)
    results = [
        *score_frame(model=model, version=version, frame=champion_frame),
        *route.mark(score_frame(model=route.model, version=route.version, frame=challenger_frame)),
    ]
    # Callers see the order they would without a deployment.
    order = {int(entity_id): i for i, entity_id in enumerate(frame.entity_ids)}
    results.sort(key=lambda r: order[r.entity_id])
    return ScoringRun(version=version, as_of=as_of, results=results)


@dataclass(frozen=True, kw_only=True)
class ChallengerRoute:
    deployment_id: int
    split: float
    version: ModelVersion
    model: AnyModel

    def mark(self, results: list[Scored]) -> list[Scored]:
        return [
            replace(r, served_by="challenger", model_version_id=self.version.id) for r in results
        ]


def challenger_route(session: Session, *, version: ModelVersion) -> ChallengerRoute | None:
    """The running deployment whose champion is `version`, with its challenger loaded."""
    deployment = running_deployment(
        session, prediction_type=version.prediction_type, population=version.population
    )
    if deployment is None or deployment.champion_version_id != version.id:
        return None
    challenger = session.get(ModelVersion, deployment.challenger_version_id)
    if challenger is None or challenger.artifact_hash is None:
        return None
    return ChallengerRoute(
        deployment_id=deployment.id,
        split=deployment.traffic_split,
        version=challenger,
        model=artifact_cache.get(session, version=challenger, loader=load_model),
    )


def subset(frame: ScoringFrame, mask: np.ndarray) -> ScoringFrame:
    """The rows of `frame` where `mask` holds."""
    return replace(
        frame,
        table=frame.table.take(np.flatnonzero(mask)),
        entity_ids=frame.entity_ids[mask],
        external_ids=frame.external_ids[mask],
        current_scores=None if frame.current_scores is None else frame.current_scores[mask],
    )


def split_frames(
    session: Session, *, route: ChallengerRoute, frame: ScoringFrame
) -> tuple[ScoringFrame, ScoringFrame]:
    """The champion's rows of `frame`, and the challenger's entities in the challenger's own
    features (its feature set may differ from the champion's)."""
    mask = to_challenger(route.deployment_id, route.split, frame.entity_ids)
    ids = [int(i) for i in frame.entity_ids[mask]]
    challenger_frame = (
        model_frame(
            session, version=route.version, model=route.model, entity_ids=ids, as_of=frame.as_of
        )
        if ids
        else subset(frame, mask)
    )
    return subset(frame, ~mask), challenger_frame


def at_risk(version: ModelVersion, outputs: list[dict[str, Any]]) -> np.ndarray:
    """Rows a person will act on: flagged churn or conversion (probability >= the model's
    threshold), a declining health trajectory; every lead for time to close (no risk notion)."""
    if version.prediction_type == PredictionType.TIME_TO_CLOSE.value:
        return np.ones(len(outputs), dtype=bool)
    return np.asarray(
        [bool(o.get("flagged")) or o.get("trajectory") == "declining" for o in outputs], dtype=bool
    )


def score_frame(
    *,
    model: AnyModel,
    version: ModelVersion,
    frame: ScoringFrame,
    rows: slice | None = None,
    detailed_only_at_risk: bool = False,
) -> list[Scored]:
    """Scores the rows of `frame` (all, or the slice `rows`).

    Every row gets its prediction, confidence and outputs. Its explanation (TreeSHAP, top
    contributions with their values) and narrative are computed for every row, or with
    `detailed_only_at_risk` only for the rows `at_risk` selects: those two are most of the cost
    of a whole portfolio, and a row nobody acts on can be explained on demand (single-entity
    scoring recomputes it in milliseconds). Such a row's contributions and values are empty
    and its explanation None."""
    data = frame.table if rows is None else frame.table.take(rows)
    if len(data) == 0:
        return []
    ids = frame.entity_ids if rows is None else frame.entity_ids[rows]
    external = frame.external_ids if rows is None else frame.external_ids[rows]
    current = frame.current_scores
    if current is not None and rows is not None:
        current = current[rows]
    # Decoded once for the calls below (most of the model's cost for a few rows).
    prepared = model.prepare(data)
    probability, predicted, outputs = _outputs(model, len(data), current, prepared, version)
    confidence = model.confidence(prepared)
    detail = at_risk(version, outputs) if detailed_only_at_risk else np.ones(len(data), bool)
    chosen = np.flatnonzero(detail)
    explanation = (
        model.explain(prepared if len(chosen) == len(data) else prepared.take(chosen))
        if len(chosen)
        else None
    )
    explained = {int(i): k for k, i in enumerate(chosen)}
    narrator = narrator_for(model=model, version=version)
    names = [str(name) for name in data.columns]
    # Row-major Python objects of the explained rows only; _jsonable turns what is left of
    # numpy (and NaN) into JSON values.
    everyone = len(chosen) == len(data)
    table = (data if everyone else data.take(chosen)).records() if len(chosen) else None
    results = []
    for i in range(len(data)):
        p_i = None if probability is None else float(probability[i])
        v_i = None if predicted is None else float(predicted[i])
        k = explained.get(i)
        row_outputs = outputs[i]
        contributions: dict[str, Any] = {}
        values: dict[str, Any] = {}
        text: str | None = None
        if k is not None and table is not None and explanation is not None:
            record = _json_record(names, table[k])
            row = explanation.row(k)
            top = dict(list(row["contributions"].items())[:TOP_CONTRIBUTIONS])
            values = {name: record[name] for name in top}
            narrative = narrator.narrate(
                contributions=row["contributions"],
                values=record,
                probability=p_i,
                predicted_value=v_i,
                outputs=outputs[i],
            )
            row_outputs = {**outputs[i], **narrative_outputs(narrative)}
            contributions = {
                "space": row["space"],
                "bias": row["bias"],
                "raw": row["raw"],
                "features": top,
                "groups": row["groups"],
            }
            text = narrative.explanation
        results.append(
            Scored(
                entity_id=int(ids[i]),
                external_id=str(external[i]),
                probability=p_i,
                predicted_value=v_i,
                confidence=float(confidence[i]),
                outputs=row_outputs,
                contributions=contributions,
                values=values,
                explanation=text,
            )
        )
    return results
