"""Liveness and readiness, and the database readings behind the metrics' gauges."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from propensity.db import Database
from propensity.migrate import alembic_config
from propensity.models import Job, JobStatus, ModelStatus, ModelVersion
from propensity.monitoring.store import latest_drift
from propensity.settings import Settings


@lru_cache(maxsize=1)
def _head() -> str | None:
    # The code's newest migration: the same for the whole life of the process.
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def readiness(*, database: Database, settings: Settings) -> dict[str, Any]:
    """Each check's result and whether all pass: the database answers, its schema is the code's
    (migrations current), and the job queue answers."""
    checks: dict[str, Any] = {}
    try:
        with database.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            current = MigrationContext.configure(conn).get_current_revision()
        checks["database"] = {"ok": True}
        head = _head()
        checks["migrations"] = {"ok": current == head, "current": current, "expected": head}
    except sa.exc.SQLAlchemyError as exc:
        checks["database"] = {"ok": False, "error": type(exc).__name__}
        checks["migrations"] = {"ok": False, "error": "database unreachable"}
    try:
        from propensity.jobs.queue import get_queue

        queue = get_queue(settings, database)
        queue.huey.pending_count()
        checks["queue"] = {"ok": True, "backend": queue.backend}
    except Exception as exc:  # any failure of the queue's backend means not ready
        checks["queue"] = {"ok": False, "error": type(exc).__name__}
    return {"ready": all(check["ok"] for check in checks.values()), "checks": checks}


def readings(database: Database) -> tuple[dict[str, int], dict[tuple[int, str, str], float]]:
    """Jobs waiting or running by status, and the latest stored drift of every active model
    (across tenants: an operator's view, labelled by model id only)."""
    with database.system_session() as session:
        counts = {
            str(status): int(count)
            for status, count in session.execute(
                sa.select(Job.status, sa.func.count())
                .where(Job.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]))
                .group_by(Job.status)
            )
        }
        for status in (JobStatus.QUEUED.value, JobStatus.RUNNING.value):
            counts.setdefault(status, 0)
        drifts: dict[tuple[int, str, str], float] = {}
        active = session.execute(
            sa.select(
                ModelVersion.id,
                ModelVersion.tenant_id,
                ModelVersion.prediction_type,
                ModelVersion.population,
            ).where(ModelVersion.status == ModelStatus.ACTIVE.value)
        ).all()
        for model_id, tenant_id, prediction_type, population in active:
            stored = latest_drift(session, tenant_id=tenant_id, model_id=model_id)
            score = stored.get("overallDrift") if stored else None
            if isinstance(score, int | float):
                drifts[(int(model_id), str(prediction_type), str(population))] = float(score)
    return counts, drifts
