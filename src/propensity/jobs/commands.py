"""Job requests as units of work of their own, committed, for callers that never touch the
transaction (the dashboard's pages). The rules are the service's (jobs.service); the REST
API calls the same functions and commits itself."""

from __future__ import annotations

from propensity.db import committing
from propensity.jobs.service import cancel_job

# Cancels a queued or running job (Conflict when it has already finished, NotFound when the
# tenant has no such job) and commits.
cancel_job_committed = committing(cancel_job)
