"""Job requests as units of work of their own, committed, for callers that never touch the
transaction (the dashboard's pages). The rules are the service's (jobs.service); the REST
API calls the same functions and commits itself."""

from __future__ import annotations

from sqlalchemy.orm import Session

from propensity.jobs.service import cancel_job
from propensity.models import Job


def cancel_job_committed(session: Session, *, job_id: str) -> Job:
    """Cancels a queued or running job (Conflict when it has already finished, NotFound when
    the tenant has no such job) and commits."""
    job = cancel_job(session, job_id=job_id)
    session.commit()
    return job
