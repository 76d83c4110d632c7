"""Training as a background job: the job's progress follows the training stages."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from propensity.jobs import JobContext, job_handler
from propensity.models import ModelStatus, ModelVersion
from propensity.training.hyperparameters import choices_from_params
from propensity.training.service import train_prediction_type

TRAIN_MODEL = "train_model"
# Progress is stored as completed/total; a per-mille scale keeps stage updates visible.
PROGRESS_SCALE = 1000


@job_handler(TRAIN_MODEL)
def train_model(ctx: JobContext) -> dict[str, Any]:
    """Params: predictionType, kind (optional), seed (optional), name, description, and
    from the model API algorithm, hyperparameters, validationSplit (training.hyperparameters)
    and activate (default true; the model API trains inactive versions to deploy later), and
    modelId: the version the model API reserved (status training) when it queued the job.

    A rerun after an interruption first marks the version the lost run left in `training`
    as failed, then trains and activates a fresh version, so reruns never leave a version
    stuck in training or two versions claiming one job.
    """
    params = ctx.params
    with ctx.session() as session:
        session.execute(
            sa.update(ModelVersion)
            .where(
                ModelVersion.job_id == ctx.job_id,
                ModelVersion.status == ModelStatus.TRAINING.value,
                # The version the model API reserved for this job is trained, not failed.
                ModelVersion.id != int(params.get("modelId") or 0),
            )
            .values(
                status=ModelStatus.FAILED.value, error="Interrupted; retrained as a new version"
            )
            .execution_options(synchronize_session=False)
        )

    def report(stage: str, fraction: float) -> None:
        ctx.progress(int(fraction * PROGRESS_SCALE), total=PROGRESS_SCALE, stage=stage)

    outcome = train_prediction_type(
        ctx.database,
        tenant_id=ctx.tenant_id,
        prediction_type=str(params["predictionType"]),
        kind=params.get("kind"),
        seed=int(params.get("seed", 0)),
        name=params.get("name"),
        description=str(params.get("description", "")),
        job_id=ctx.job_id,
        progress=report,
        choices=choices_from_params(params),
        activate_when_done=bool(params.get("activate", True)),
        version_id=int(params["modelId"]) if params.get("modelId") else None,
    )
    return {
        "modelId": outcome.version_id,
        "version": outcome.version,
        "predictionType": outcome.prediction_type,
        "population": outcome.population,
        "algorithm": outcome.algorithm,
        "seconds": round(outcome.seconds, 2),
        "metrics": outcome.metrics,
    }


# The automatic retrain job and its nightly planner live in their own module; workers discover
# handlers by importing `<domain>.tasks`, so importing it here registers them.
from propensity.training import auto_retrain  # noqa: E402, F401
