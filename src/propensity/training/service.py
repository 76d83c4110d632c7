"""Training one prediction type for one tenant: features -> model -> registry.

The pipeline is the same for every caller (CLI, job queue, demo, the model API): build a
point-in-time training set (or a static one for data without dates), train with model
selection and calibration, store the version with its metrics, statistics and artifact,
and make it the active model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from propensity.db import Database, utcnow
from propensity.errors import PropensityError
from propensity.features import TrainingSet, build_training_set
from propensity.features.builder import resolve_kind
from propensity.features.training import DEFAULT_MAX_ROWS
from propensity.logs import get_logger
from propensity.modeling import (
    AnyModel,
    BinaryModel,
    FeatureSpec,
    train_binary,
    train_regression,
    train_survival,
)
from propensity.modeling.naive import health_trend_naive
from propensity.models import ModelStatus, ModelVersion
from propensity.registry.service import activate, get_version, start_version, store_artifact
from propensity.timefmt import iso_z
from propensity.training.hyperparameters import TrainingChoices
from propensity.vocabulary import PredictionType, parse_trainable, population_of
from propensity.webhooks import hooks as webhook_hooks

log = get_logger(__name__)
Progress = Callable[[str, float], None]

# Share of the overall progress spent building the training set; the rest is modeling.
FEATURE_SHARE = 0.25


@dataclass(frozen=True, kw_only=True)
class TrainingOutcome:
    version_id: int
    version: str
    prediction_type: str
    population: str
    algorithm: str
    metrics: dict[str, Any]
    seconds: float


def _fit(
    training: TrainingSet,
    *,
    prediction_type: PredictionType,
    seed: int,
    progress: Progress,
    choices: TrainingChoices,
) -> AnyModel:
    specs = [FeatureSpec.from_dict(d.to_dict()) for d in training.definitions]
    times = training.snapshot_times if training.mode == "point_in_time" else None
    common: dict[str, Any] = {
        "frame": training.frame,
        "features": specs,
        "times": times,
        "seed": seed,
        "progress": progress,
        "tree_overrides": choices.tree_overrides or None,
    }
    if choices.test_fraction is not None:
        common["test_fraction"] = choices.test_fraction
    if prediction_type in (PredictionType.CHURN, PredictionType.CONVERSION):
        assert training.labels is not None
        return train_binary(
            labels=training.labels,
            family=choices.family,  # type: ignore[arg-type]
            linear_strength=choices.linear_strength,
            **common,
        )
    if prediction_type is PredictionType.TIME_TO_CLOSE:
        assert training.durations_days is not None and training.observed is not None
        return train_survival(
            durations_days=training.durations_days,
            observed=training.observed,
            lost=training.lost,
            horizon_days=training.summary.horizon_days,
            **common,
        )
    assert training.targets is not None
    return train_regression(
        targets=training.targets,
        family=choices.family,  # type: ignore[arg-type]
        linear_strength=choices.linear_strength,
        naive=health_trend_naive(training.frame, training.current_scores),
        **common,
    )


def with_accuracy(metrics: dict[str, Any]) -> dict[str, Any]:
    """The held-out metrics with an `accuracy` for every model. Binary models have theirs at
    the model's threshold (with precision, recall and F1). A regression or time-to-close
    model's accuracy is the share of held-out outcomes inside its p10-p90 interval
    (`interval_coverage`): the rule lead validation judges a time to close by."""
    if metrics.get("accuracy") is not None or metrics.get("interval_coverage") is None:
        return metrics
    return {
        **metrics,
        "accuracy": metrics["interval_coverage"],
        "accuracy_rule": "held-out outcomes inside the p10-p90 interval",
    }


def _record(version: ModelVersion, model: AnyModel, training: TrainingSet, seconds: float) -> None:
    version.algorithm = model.family
    version.metrics = with_accuracy(model.metrics)
    version.selection = model.selection
    version.hyperparameters = model.hyperparameters
    version.feature_importance = model.importance
    version.feature_stats = model.feature_stats
    version.feature_specs = [spec.to_dict() for spec in model.features]
    version.training_summary = {
        **training.summary.to_dict(),
        "model": model.training,
        "groupImportance": model.group_importance,
    }
    version.horizon_days = training.summary.horizon_days
    version.threshold = model.threshold if isinstance(model, BinaryModel) else None
    version.training_seconds = round(seconds, 3)
    version.trained_at = utcnow()
    version.status = ModelStatus.INACTIVE.value


def train_prediction_type(
    database: Database,
    *,
    tenant_id: int,
    prediction_type: str,
    kind: str | None = None,
    seed: int = 0,
    max_rows: int = DEFAULT_MAX_ROWS,
    activate_when_done: bool = True,
    progress: Progress | None = None,
    job_id: str | None = None,
    name: str | None = None,
    description: str = "",
    choices: TrainingChoices | None = None,
    version_id: int | None = None,
    data_end: datetime | None = None,
) -> TrainingOutcome:
    """`choices` (algorithm, hyperparameters, held-out fraction; see training.hyperparameters)
    default to automatic selection with the trainers' defaults. `version_id` trains a version
    `reserve_version` created (the model API returns its id before the job runs). `data_end`
    trains on the data as it stood then (snapshots, features and labels only from before it;
    recorded as `dataEnd` in the version's training config), as a model trained that day
    would have been."""
    ptype = parse_trainable(prediction_type)
    choices = choices or TrainingChoices()
    report = progress or (lambda _stage, _fraction: None)
    started = time.perf_counter()
    config: dict[str, Any] = {"seed": seed, "requested": choices.requested}
    if data_end is not None:
        config["dataEnd"] = iso_z(data_end)
    with database.tenant_session(tenant_id) as session:
        kind = resolve_kind(session, ptype, kind)
        reserved = None if version_id is None else get_version(session, version_id=version_id)
        if reserved is not None and reserved.status == ModelStatus.TRAINING.value:
            reserved.training_config = {**(reserved.training_config or {}), "kind": kind, **config}
            version = reserved
        else:
            version = start_version(
                session,
                prediction_type=ptype.value,
                population=population_of(ptype, kind),
                name=name,
                description=description,
                training_config={"kind": kind, **config},
                job_id=job_id,
            )
        version_id = version.id
    try:
        report("features", 0.0)
        with database.tenant_session(tenant_id) as session:
            training = build_training_set(
                session,
                prediction_type=ptype.value,
                kind=kind,
                seed=seed,
                max_rows=max_rows,
                data_end=data_end,
            )
        report("features", FEATURE_SHARE)

        def modeling_progress(stage: str, fraction: float) -> None:
            report(stage, FEATURE_SHARE + (1 - FEATURE_SHARE) * fraction)

        model = _fit(
            training,
            prediction_type=ptype,
            seed=seed,
            progress=modeling_progress,
            choices=choices,
        )
    except BaseException as exc:
        message = exc.message if isinstance(exc, PropensityError) else type(exc).__name__
        with database.tenant_session(tenant_id) as session:
            failed = get_version(session, version_id=version_id)
            failed.status = ModelStatus.FAILED.value
            failed.error = message
            if isinstance(exc, PropensityError) and exc.details:
                # Kept so the model API can show why (e.g. the counts behind too little data).
                failed.training_summary = {"failure": {"code": exc.code, **exc.details}}
        log.warning("training_failed", version_id=version_id, type=ptype.value, error=message)
        raise
    seconds = time.perf_counter() - started
    with database.tenant_session(tenant_id) as session:
        version = get_version(session, version_id=version_id)
        _record(version, model, training, seconds)
        store_artifact(session, version=version, content=model.to_bytes())
        if activate_when_done:
            session.flush()
            activate(session, version=version)
        webhook_hooks.model_trained(session, version=version, job_id=job_id)
        outcome = TrainingOutcome(
            version_id=version.id,
            version=version.version,
            prediction_type=ptype.value,
            population=version.population,
            algorithm=model.family,
            metrics=model.metrics,
            seconds=seconds,
        )
    report("done", 1.0)
    log.info(
        "model_trained",
        version_id=outcome.version_id,
        type=ptype.value,
        population=outcome.population,
        algorithm=outcome.algorithm,
        seconds=round(seconds, 1),
    )
    return outcome


def reserve_version(
    session: Session,
    *,
    prediction_type: str,
    kind: str | None,
    name: str | None,
    description: str,
    job_id: str,
) -> ModelVersion:
    """A version in status `training` for a queued job, so its id is known at once. The kind is
    resolved now: a tenant with both accounts and subscribers must name one (400 before any
    job runs)."""
    ptype = parse_trainable(prediction_type)
    resolved = resolve_kind(session, ptype, kind)
    return start_version(
        session,
        prediction_type=ptype.value,
        population=population_of(ptype, resolved),
        name=name,
        description=description,
        training_config={"kind": resolved},
        job_id=job_id,
    )
