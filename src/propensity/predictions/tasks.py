"""Batch scoring as a job, and the daily refresh of account and lead predictions.

Job `score_portfolio`, params:
    predictionType  CHURN | HEALTH_TREND | CONVERSION | TIME_TO_CLOSE (required)
    kind            account | subscriber (customer types; optional as in scoring)
    maxEntities     score at most this many: those with no or the oldest ACTIVE prediction first
    entityIds       score exactly these (database ids)
    chunkSize       rows per stored chunk (default 5,000; at least 100)
    asOf            ISO 8601 time to score as of (default now), e.g. to backfill history
Progress is reported after every stored chunk, stage "scoring". The result is
{"scored", "atRisk", "predictionType", "population", "modelVersion", "modelId", "asOf",
"seconds", "stageSeconds": {"features", "scoring", "storing"}}. Reruns are idempotent (see
batch.py).

Periodic `predictions.daily_scoring` (01:45 UTC): every tenant's active account models (churn,
health trend) and lead models (conversion, time to close) score their live population, then
predictions past their validity become EXPIRED, and every expired prediction whose outcome
is now known is judged (predictions/validation.py, lead_validation.py). Subscriber churn is
refreshed by portfolio.daily_snapshot, which also records the churn-KPI history, so it is not
repeated here.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import partial
from typing import Any

import sqlalchemy as sa
from huey import crontab

from propensity.db import Database, refresh_planner_statistics, utcnow
from propensity.errors import InvalidInput
from propensity.jobs import JobContext, get_job, job_handler, periodic_task
from propensity.jobs.isolation import each
from propensity.models import ModelStatus, ModelVersion, Prediction
from propensity.predictions.batch import CHUNK_SIZE, score_portfolio
from propensity.predictions.lead_validation import validate_expired_leads
from propensity.predictions.service import expire_predictions
from propensity.predictions.validation import validate_expired
from propensity.settings import Settings
from propensity.webhooks import hooks as webhook_hooks

log = logging.getLogger(__name__)

SCORE_PORTFOLIO = "score_portfolio"
# (prediction type, population) refreshed daily here.
DAILY_MODELS = (
    ("CHURN", "account"),
    ("HEALTH_TREND", "account"),
    ("CONVERSION", "lead"),
    ("TIME_TO_CLOSE", "lead"),
)


def _optional_int(params: dict[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be a whole number.")
    return value


def _entity_ids(params: dict[str, Any]) -> list[int] | None:
    value = params.get("entityIds")
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise InvalidInput("entityIds must be a list of ids.")
    return value


def _as_of(params: dict[str, Any]) -> datetime | None:
    value = params.get("asOf")
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput("asOf must be an ISO 8601 time.") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _created_at(ctx: JobContext) -> datetime:
    with ctx.session() as session:
        return get_job(session, job_id=ctx.job_id).created_at


@job_handler(SCORE_PORTFOLIO)
def score_portfolio_job(ctx: JobContext) -> dict[str, Any]:
    params = ctx.params
    prediction_type = params.get("predictionType")
    if not isinstance(prediction_type, str) or not prediction_type.strip():
        raise InvalidInput("predictionType is required.")
    kind = params.get("kind")

    def report(done: int, total: int) -> None:
        ctx.progress(done, total=total, stage="scoring")

    run = score_portfolio(
        ctx.session,
        prediction_type=prediction_type,
        kind=str(kind) if kind is not None else None,
        entity_ids=_entity_ids(params),
        max_entities=_optional_int(params, "maxEntities"),
        chunk_size=_optional_int(params, "chunkSize") or CHUNK_SIZE,
        # Without an asOf of its own, the job's creation: the same for every run of it.
        as_of=_as_of(params) or _created_at(ctx),
        settings=ctx.settings,
        progress=report,
        job_id=ctx.job_id,
    )
    # A portfolio run can multiply the predictions table; plan single predictions with it.
    with ctx.session() as session:
        refresh_planner_statistics(session.connection(), tables=["predictions"])
        webhook_hooks.portfolio_completed(session, result=run.to_dict(), job_id=ctx.job_id)
    return run.to_dict()


def daily_models(database: Database) -> list[tuple[int, str, str]]:
    """(tenant, prediction type, population) of every active model refreshed daily."""
    with database.system_session() as session:
        rows = session.execute(
            sa.select(ModelVersion.tenant_id, ModelVersion.prediction_type, ModelVersion.population)
            .where(ModelVersion.status == ModelStatus.ACTIVE.value)
            .distinct()
        ).all()
    wanted = set(DAILY_MODELS)
    return sorted((int(t), str(p), str(k)) for t, p, k in rows if (p, k) in wanted)


@periodic_task("predictions.daily_scoring", schedule=crontab(minute="45", hour="1"))
def daily_scoring(database: Database, settings: Settings) -> None:
    now = utcnow()

    def score(model: tuple[int, str, str]) -> None:
        tenant_id, prediction_type, population = model
        run = score_portfolio(
            partial(database.tenant_session, tenant_id),
            prediction_type=prediction_type,
            kind=None if population == "lead" else population,
            as_of=now,
            settings=settings,
        )
        with database.tenant_session(tenant_id) as session:
            webhook_hooks.portfolio_completed(session, result=run.to_dict())
        log.info(
            "daily scoring: tenant %s %s/%s: %s scored in %.1f s",
            tenant_id,
            prediction_type,
            population,
            run.scored,
            run.seconds,
        )

    each(daily_models(database), score, task="predictions.daily_scoring")
    # Every tenant's, in one statement: a tenant without models still has predictions to expire.
    with database.system_session() as session:
        expired = expire_predictions(session, now=utcnow())
        refresh_planner_statistics(session.connection(), tables=["predictions"])
    log.info("daily scoring: %s predictions expired", expired)
    validate_all(database, settings=settings, now=utcnow())


def tenants_with_predictions(database: Database) -> list[int]:
    with database.system_session() as session:
        rows = session.scalars(sa.select(Prediction.tenant_id).distinct()).all()
    return sorted(int(t) for t in rows)


def validate_all(database: Database, *, settings: Settings, now: datetime) -> dict[int, int]:
    """Judges every tenant's expired predictions whose outcome is now known (customers and
    leads), one tenant per transaction; returns how many were judged per tenant."""

    def judge(tenant_id: int) -> int:
        with database.tenant_session(tenant_id) as session:
            count = validate_expired(
                session, now=now, tolerance_points=settings.health_tolerance_points
            )
            count += validate_expired_leads(session, now=now)
        log.info("daily validation: tenant %s: %s predictions judged", tenant_id, count)
        return count

    judged = each(tenants_with_predictions(database), judge, task="predictions.validation")
    return judged
