"""How long a training job should take, for the document's `estimatedDuration` (retrain) and
`estimatedCompletion` (training status).

The estimate is measured, not guessed: the tenant's last finished training of the same
prediction type and population, from when its version was created (queued, for API-trained
models) to when it was trained. Without such a training there is no estimate (null).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.jobs import Job, JobStatus
from propensity.models import ModelVersion


def expected_duration(
    session: Session, *, prediction_type: str, population: str
) -> timedelta | None:
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


def describe(duration: timedelta) -> str:
    """In the document's words ("2-3 hours"): rounded up to whole minutes or hours."""
    minutes = max(1, -(-int(duration.total_seconds()) // 60))
    if minutes < 90:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    return f"about {-(-minutes // 60)} hours"


def estimated_completion(job: Job, duration: timedelta | None, *, now: datetime) -> datetime | None:
    """When a queued or running job should finish; a finished job's own end time. A job
    that has overrun its estimate is expected now, never in the past."""
    if job.status in (JobStatus.COMPLETED.value, JobStatus.FAILED.value):
        return job.finished_at
    if job.status == JobStatus.CANCELLED.value or duration is None:
        return None
    return max(now, (job.started_at or job.created_at) + duration)
