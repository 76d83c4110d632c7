"""Figures over the jobs table that monitoring and the champion/challenger guardrails share."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.models import Job, JobStatus

# The jobs whose failures count as scoring errors: nothing else records scoring errors.
SCORING_JOBS = ("score_portfolio",)


def scoring_error_rate(
    session: Session, *, start: datetime, end: datetime, prediction_type: str | None = None
) -> float | None:
    """Failed over finished scoring jobs (of this prediction type, when given) that finished
    in (start, end]; None when none finished."""
    rows = session.execute(
        sa.select(Job.status, Job.params).where(
            Job.type.in_(SCORING_JOBS),
            Job.finished_at > start,
            Job.finished_at <= end,
            Job.status.in_((JobStatus.COMPLETED.value, JobStatus.FAILED.value)),
        )
    ).all()
    statuses = [
        status
        for status, params in rows
        if prediction_type is None
        or str((params or {}).get("predictionType", "")).upper() == prediction_type
    ]
    if not statuses:
        return None
    return round(sum(1 for s in statuses if s == JobStatus.FAILED.value) / len(statuses), 4)
