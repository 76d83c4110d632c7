"""Automatic retraining: a challenger is trained when drift or accuracy crosses the tenant's
threshold, and replaces the champion only if it beats it on the same holdout (ADR 0009).

* When: the periodic task `training.auto_retrain` (04:00 UTC, after the 03:30 drift check) looks
  at every active CHURN or CONVERSION model of a tenant whose `training.autoRetrain` is on. It
  enqueues an `auto_retrain` job when the latest stored drift check of the model (no older than
  `MAX_CHECK_AGE`) has an overall drift score >= `training.retrainThreshold`, or when accuracy
  on its predictions validated in the last 30 days is more than `monitoring.alertThresholds.
  accuracyDrop` below its held-out accuracy with confidence >= 0.95 (monitoring/service.py).
  Clock features do not count in that drift score (monitoring/drift.py).
* Not twice: no job is enqueued for a model that has one queued or running, nor for evidence
  (the same drift check or the same latest validation) an earlier job already acted on, nor while
  a champion/challenger deployment of the type runs (ADR 0008 decides that one).
* The job trains a challenger with the champion's recipe (its requested algorithm,
  hyperparameters and seed) on today's data, inactive; scores champion and challenger on one
  holdout (`monitoring.compare.comparison_holdout`: the challenger's own test split, the newest
  rows), and activates the challenger only when its holdout log-loss is strictly lower.
  Otherwise the challenger is retired (kept for history, never served). The decision, both
  log-losses and the reason are the job's result and one `auto_retrain_decision` log line.
* Only binary types: the holdout comparison needs yes/no outcomes (a log-loss); time-to-close
  and health-trend models are not retrained automatically.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from huey import crontab
from sqlalchemy.orm import Session

from propensity.db import Database, utcnow
from propensity.errors import PropensityError
from propensity.jobs import JobContext, enqueue_job, job_handler, periodic_task
from propensity.logs import get_logger
from propensity.metrics import PERIODIC_FAILURES
from propensity.mlconfig.service import MlConfig, load_ml_config
from propensity.modeling import BinaryModel
from propensity.modeling.metrics import log_loss
from propensity.models import (
    Deployment,
    DeploymentStatus,
    Job,
    JobStatus,
    ModelStatus,
    ModelVersion,
)
from propensity.monitoring.compare import BINARY_TYPES, comparison_holdout
from propensity.monitoring.service import concept_alarm, load_version_model, recent_concept
from propensity.monitoring.store import latest_drift
from propensity.monitoring.tasks import active_models
from propensity.registry.lifecycle import change_status
from propensity.registry.service import get_version
from propensity.settings import Settings
from propensity.timefmt import iso_z
from propensity.training.hyperparameters import choices_from_params
from propensity.training.service import train_prediction_type

log = get_logger(__name__)

AUTO_RETRAIN = "auto_retrain"
# A stored drift check older than this is not acted on (the daily check stopped or is off).
MAX_CHECK_AGE = timedelta(days=2)
PROGRESS_SCALE = 1000
# Share of the job's progress spent training; the rest builds the holdout and compares.
TRAIN_SHARE = 0.8
PENDING = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


@dataclass(frozen=True, kw_only=True)
class Trigger:
    kind: str  # "drift" or "accuracy"
    value: float
    threshold: float
    evidence_at: str  # the drift check's asOf, or the latest validation's time (ISO, UTC)
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "value": round(self.value, 6),
            "threshold": self.threshold,
            "evidenceAt": self.evidence_at,
            "reason": self.reason,
        }


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def retrain_trigger(
    session: Session, *, version: ModelVersion, config: MlConfig, now: datetime
) -> Trigger | None:
    """Why `version` should be retrained now, or None (see the module doc)."""
    threshold = config.training.retrainThreshold
    stored = latest_drift(session, tenant_id=version.tenant_id, model_id=version.id)
    checked_at = _parse_time(stored.get("asOf")) if stored else None
    overall = stored.get("overallDrift") if stored else None
    if (
        checked_at is not None
        and now - checked_at <= MAX_CHECK_AGE
        and isinstance(overall, int | float)
        and overall >= threshold
    ):
        return Trigger(
            kind="drift",
            value=float(overall),
            threshold=threshold,
            evidence_at=str(stored.get("asOf")) if stored else "",
            reason=f"Overall drift {overall:.4f} reached the retrain threshold {threshold:g}",
        )
    drop = config.monitoring.alertThresholds.accuracyDrop
    concept, _, validated_at = recent_concept(session, version=version, as_of=now)
    if (
        concept is not None
        and validated_at is not None
        and concept_alarm(concept, accuracy_drop=drop)
    ):
        return Trigger(
            kind="accuracy",
            value=concept.score,
            threshold=drop,
            evidence_at=iso_z(validated_at) or "",
            reason=f"Accuracy {concept.recent_accuracy:.3f} on {concept.validated} validated "
            f"predictions is {concept.score:.3f} below the held-out "
            f"{concept.baseline_accuracy:.3f} (threshold {drop:g})",
        )
    return None


def _retrain_jobs(session: Session, *, model_id: int) -> list[Job]:
    # At most one row per model and day: filtered here rather than with dialect-specific JSON SQL.
    jobs = session.scalars(sa.select(Job).where(Job.type == AUTO_RETRAIN)).all()
    return [j for j in jobs if int((j.params or {}).get("modelId") or 0) == model_id]


def _deployment_running(session: Session, version: ModelVersion) -> bool:
    return (
        session.scalar(
            sa.select(Deployment.id).where(
                Deployment.prediction_type == version.prediction_type,
                Deployment.population == version.population,
                Deployment.status == DeploymentStatus.RUNNING.value,
            )
        )
        is not None
    )


def skip_reason(session: Session, *, version: ModelVersion, trigger: Trigger) -> str | None:
    """Why no job is enqueued for a triggered model, or None to enqueue one."""
    jobs = _retrain_jobs(session, model_id=version.id)
    pending = [j for j in jobs if j.status in PENDING]
    if pending:
        return f"auto retrain job {pending[0].id} is already {pending[0].status}"
    acted = [j.id for j in jobs if (j.params or {}).get("evidenceAt") == trigger.evidence_at]
    if acted:
        return f"job {acted[0]} already acted on the evidence of {trigger.evidence_at}"
    if _deployment_running(session, version):
        return "a champion/challenger deployment of this model type is running"
    return None


def plan_auto_retrains(database: Database, *, now: datetime | None = None) -> list[str]:
    """Enqueues an auto retrain job for every active model that needs one (module doc);
    returns the new jobs' ids. Each tenant in its own transaction: one failure stops no other."""
    now = now or utcnow()
    enqueued: list[str] = []
    for tenant_id, version_id in active_models(database):
        try:
            with database.tenant_session(tenant_id) as session:
                version = get_version(session, version_id=version_id)
                if version.prediction_type not in BINARY_TYPES:
                    continue
                config = load_ml_config(session, tenant_id=tenant_id)
                if not config.training.autoRetrain:
                    continue
                trigger = retrain_trigger(session, version=version, config=config, now=now)
                if trigger is None:
                    continue
                skipped = skip_reason(session, version=version, trigger=trigger)
                if skipped is not None:
                    log.info("auto_retrain_skipped", model_id=version.id, reason=skipped)
                    continue
                job = enqueue_job(
                    session,
                    type=AUTO_RETRAIN,
                    params={
                        "modelId": version.id,
                        "predictionType": version.prediction_type,
                        "evidenceAt": trigger.evidence_at,
                        "trigger": trigger.to_dict(),
                    },
                )
                enqueued.append(job.id)
                log.info(
                    "auto_retrain_enqueued",
                    model_id=version.id,
                    job_id=job.id,
                    tenant_id=tenant_id,
                    trigger=trigger.kind,
                    value=round(trigger.value, 6),
                )
        except PropensityError as exc:
            log.warning("auto_retrain_planning_failed", model_id=version_id, error=exc.message)
        except Exception as exc:
            # One model's damaged data must not stop the planning of every other tenant's.
            PERIODIC_FAILURES.labels(task="training.auto_retrain").inc()
            log.exception(
                "auto_retrain_planning_failed", model_id=version_id, error=type(exc).__name__
            )
    return enqueued


@periodic_task("training.auto_retrain", schedule=crontab(minute="0", hour="4"))
def nightly_auto_retrain(database: Database, settings: Settings) -> None:
    del settings
    log.info("auto_retrain_planned", jobs=len(plan_auto_retrains(database)))


def _challenger(ctx: JobContext, champion: ModelVersion) -> int:
    """Trains the challenger (inactive), or reuses the one a lost run of this job trained."""
    with ctx.session() as session:
        leftover = session.scalars(
            sa.select(ModelVersion).where(ModelVersion.job_id == ctx.job_id)
        ).all()
        for version in leftover:
            if version.status == ModelStatus.INACTIVE.value and version.artifact_hash:
                return version.id
            if version.status == ModelStatus.TRAINING.value:
                version.status = ModelStatus.FAILED.value
                version.error = "Interrupted; retrained as a new version"
    config = champion.training_config or {}
    requested = (config.get("requested") or {}).get("api") or {}
    choices = choices_from_params({"predictionType": champion.prediction_type, **requested})

    def report(stage: str, fraction: float) -> None:
        ctx.progress(int(TRAIN_SHARE * fraction * PROGRESS_SCALE), PROGRESS_SCALE, stage)

    outcome = train_prediction_type(
        ctx.database,
        tenant_id=ctx.tenant_id,
        prediction_type=champion.prediction_type,
        kind=config.get("kind"),
        seed=int(config.get("seed") or 0),
        name=f"{champion.name} (auto retrain)",
        description=f"Automatic retrain of {champion.version}: "
        + str((ctx.params.get("trigger") or {}).get("reason") or "threshold crossed"),
        job_id=ctx.job_id,
        progress=report,
        choices=choices,
        activate_when_done=False,
    )
    return outcome.version_id


def _holdout_losses(
    session: Session, *, champion: ModelVersion, challenger: ModelVersion
) -> tuple[float, float, dict[str, Any]]:
    """Champion's and challenger's log-loss on the challenger's holdout (NaN when it is empty),
    and the holdout's description for the result."""
    holdout = comparison_holdout(session, version=challenger)
    losses = [float("nan"), float("nan")]
    if len(holdout.labels):
        for i, version in enumerate((champion, challenger)):
            model = load_version_model(session, version=version)
            assert isinstance(model, BinaryModel)
            p = np.asarray(model.predict_proba(holdout.frame), dtype=np.float64)
            losses[i] = log_loss(p, holdout.labels)
    described = {
        "rows": len(holdout.labels),
        "positives": int(holdout.labels.sum()),
        "split": holdout.split,
        "seed": holdout.seed,
        "championLogLoss": None if np.isnan(losses[0]) else round(losses[0], 6),
        "challengerLogLoss": None if np.isnan(losses[1]) else round(losses[1], 6),
    }
    return losses[0], losses[1], described


def _decide(
    session: Session, *, champion: ModelVersion, challenger: ModelVersion
) -> dict[str, Any]:
    theirs, ours, holdout = _holdout_losses(session, champion=champion, challenger=challenger)
    if holdout["rows"] == 0:
        decision, reason = "kept_champion", "The holdout is empty: nothing to compare on"
    elif champion.status != ModelStatus.ACTIVE.value:
        decision = "kept_champion"
        reason = f"Model {champion.id} is no longer active ({champion.status}); nothing replaced"
    elif _deployment_running(session, champion):
        decision = "kept_champion"
        reason = "A champion/challenger deployment started meanwhile; it decides instead"
    elif ours < theirs:
        decision = "promoted"
        reason = (
            f"Challenger holdout log-loss {ours:.4f} < champion {theirs:.4f} "
            f"on {holdout['rows']} rows"
        )
    else:
        decision = "kept_champion"
        reason = (
            f"Challenger holdout log-loss {ours:.4f} is not below the champion's {theirs:.4f} "
            f"on {holdout['rows']} rows"
        )
    # Through the lifecycle, so the challenger's status history records the reason. A losing
    # challenger is retired: kept for history, never a deploy candidate by accident.
    status = ModelStatus.ACTIVE if decision == "promoted" else ModelStatus.RETIRED
    change_status(session, version=challenger, status=status.value, reason=reason, user_id=None)
    return {"decision": decision, "reason": reason, "holdout": holdout}


@job_handler(AUTO_RETRAIN)
def auto_retrain(ctx: JobContext) -> dict[str, Any]:
    """Params: modelId (the champion), predictionType, evidenceAt and trigger (what crossed its
    threshold). Result: the decision (promoted / kept_champion / skipped), its reason, both
    holdout log-losses, the challenger's id and the trigger."""
    champion_id = int(ctx.params["modelId"])
    trigger = dict(ctx.params.get("trigger") or {})
    with ctx.session() as session:
        champion = get_version(session, version_id=champion_id)
        active = champion.status == ModelStatus.ACTIVE.value
        status = champion.status
    if not active:
        result = {
            "decision": "skipped",
            "reason": f"Model {champion_id} is no longer active ({status})",
            "championId": champion_id,
            "challengerId": None,
            "trigger": trigger,
        }
        log.info("auto_retrain_decision", job_id=ctx.job_id, **_loggable(result))
        return result
    challenger_id = _challenger(ctx, champion)
    ctx.progress(int(TRAIN_SHARE * PROGRESS_SCALE), PROGRESS_SCALE, "comparing")
    with ctx.session() as session:
        champion = get_version(session, version_id=champion_id)
        challenger = get_version(session, version_id=challenger_id)
        decided = _decide(session, champion=champion, challenger=challenger)
    result = {
        **decided,
        "championId": champion_id,
        "challengerId": challenger_id,
        "trigger": trigger,
    }
    log.info("auto_retrain_decision", job_id=ctx.job_id, **_loggable(result))
    ctx.progress(PROGRESS_SCALE, PROGRESS_SCALE, "done")
    return result


def _loggable(result: dict[str, Any]) -> dict[str, Any]:
    holdout = result.get("holdout") or {}
    return {
        "decision": result["decision"],
        "reason": result["reason"],
        "champion_id": result["championId"],
        "challenger_id": result["challengerId"],
        "champion_log_loss": holdout.get("championLogLoss"),
        "challenger_log_loss": holdout.get("challengerLogLoss"),
        "holdout_rows": holdout.get("rows"),
        "trigger": (result.get("trigger") or {}).get("kind"),
    }
