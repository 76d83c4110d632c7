"""Training on request (the model API's create and retrain): the request is checked, a
`train_model` job is queued and the version it will train is reserved (status `training`, so
the answer can name it), all in one transaction; and reading such a job back.

Models trained this way end `inactive`: they wait to be activated or deployed.

How long a training should take is measured, not guessed: the tenant's last finished training
of the same prediction type and population, from when its version was created (queued, for
models trained on request) to when it was trained. Without such a training there is no
estimate (None)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.errors import NotFound, PropensityError
from propensity.jobs import Job, enqueue_job, get_job
from propensity.models import JobStatus, ModelVersion
from propensity.training.hyperparameters import parse_choices
from propensity.training.service import reserve_version
from propensity.training.tasks import PROGRESS_SCALE, TRAIN_MODEL
from propensity.vocabulary import PredictionType


@dataclass(frozen=True, kw_only=True)
class TrainingRequest:
    """What to train, as asked: checked by `queue_training` (training.hyperparameters)."""

    prediction_type: str
    kind: str | None = None
    algorithm: str | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    validation_split: float | None = None


@dataclass(frozen=True)
class QueuedTraining:
    job: Job
    version: ModelVersion  # reserved for the job: status `training` until it ends
    algorithm: str  # as asked ("auto" when not)


def queue_training(
    session: Session,
    *,
    request: TrainingRequest,
    name: str | None,
    description: str,
    user_id: int | None,
) -> QueuedTraining:
    """Checks the request (400 VALIDATION_ERROR naming the field), queues the job, reserves
    its version and commits: both are written, or neither."""
    parse_choices(
        prediction_type=request.prediction_type,
        algorithm=request.algorithm,
        hyperparameters=request.hyperparameters,
        validation_split=request.validation_split,
    )
    algorithm = (request.algorithm or "auto").strip().lower()
    job = enqueue_job(
        session,
        type=TRAIN_MODEL,
        params={
            "predictionType": request.prediction_type,
            "kind": request.kind,
            "name": name,
            "description": description,
            "algorithm": algorithm,
            "hyperparameters": request.hyperparameters,
            "validationSplit": request.validation_split,
            # Trained models wait, inactive, to be deployed or activated.
            "activate": False,
        },
        total=PROGRESS_SCALE,
        created_by=user_id,
    )
    version = reserve_version(
        session,
        prediction_type=request.prediction_type,
        kind=request.kind,
        name=name,
        description=description,
        job_id=job.id,
    )
    job.params = {**job.params, "modelId": version.id}
    session.commit()
    return QueuedTraining(job, version, algorithm)


def retrain_request(version: ModelVersion, *, changes: Mapping[str, Any]) -> TrainingRequest:
    """What retraining `version` asks for: its own type, population, algorithm and
    hyperparameters as first requested, and its validation split unless `changes` gives
    another (`validationSplit`, the model API's name)."""
    requested = (version.training_config or {}).get("requested") or {}
    stored = dict(requested.get("api") or {})
    churn = version.prediction_type == PredictionType.CHURN.value
    return TrainingRequest(
        prediction_type=version.prediction_type,
        kind=version.population if churn else None,
        algorithm=str(stored.get("algorithm") or "auto"),
        hyperparameters=dict(stored.get("hyperparameters") or {}),
        validation_split=changes.get("validationSplit", stored.get("validationSplit")),
    )


def expected_duration(
    session: Session, *, prediction_type: str, population: str
) -> timedelta | None:
    """How long a training of this type and population should take (module docstring)."""
    last = session.scalars(
        sa.select(ModelVersion)
        .where(
            ModelVersion.prediction_type == prediction_type,
            ModelVersion.population == population,
            ModelVersion.trained_at.is_not(None),
        )
        .order_by(ModelVersion.trained_at.desc(), ModelVersion.id.desc())
        .limit(1)
    ).first()
    if last is None or last.trained_at is None:
        return None
    took = last.trained_at - last.created_at
    return took if took > timedelta(0) else None


@dataclass(frozen=True)
class TrainingJob:
    job: Job
    version: ModelVersion | None  # the version it trains (None when it made none)
    expected: timedelta | None  # expected_duration of that version's type and population


def training_job(session: Session, *, job_id: str) -> TrainingJob | None:
    """The tenant's training job with this id, the version it trains and how long such a
    training takes; None when the tenant has no training job of that id."""
    try:
        job = get_job(session, job_id=job_id)
    except NotFound:
        return None
    if job.type != TRAIN_MODEL:
        return None
    version = session.scalars(
        sa.select(ModelVersion).where(ModelVersion.job_id == job.id).order_by(ModelVersion.id)
    ).first()
    expected = (
        None
        if version is None
        else expected_duration(
            session, prediction_type=version.prediction_type, population=version.population
        )
    )
    return TrainingJob(job, version, expected)


def queue_activation_training(
    session: Session, *, prediction_type: str, kind: str | None, user_id: int | None
) -> Job:
    """A training that activates its model when done (RetainStream's POST /model/train),
    queued and committed; `awaited_training` reads how it ended."""
    job = enqueue_job(
        session,
        type=TRAIN_MODEL,
        params={"predictionType": prediction_type, "kind": kind, "activate": True},
        total=PROGRESS_SCALE,
        created_by=user_id,
    )
    session.commit()
    return job


def awaited_training(session: Session, *, job_id: str) -> int | None:
    """The id of the version a finished training job made; None while it has not finished.
    A failed job raises the core error it failed with (its code and status), so the answer
    is the one the training itself would have given."""
    job = get_job(session, job_id=job_id)
    if job.status == JobStatus.COMPLETED.value:
        return int((job.result or {})["modelId"])
    if job.status in (JobStatus.FAILED.value, JobStatus.CANCELLED.value):
        error = (job.result or {}).get("error") or {}
        failure = PropensityError(job.error or "The training failed", code=error.get("code"))
        failure.status_code = int(error.get("status") or 500)
        raise failure
    return None
