"""How long a training job should take, in the document's words: `estimatedDuration`
(retrain) and `estimatedCompletion` (training status), from the measured duration of the
tenant's last such training (training.requests.expected_duration; none: null).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from propensity.jobs import Job, JobStatus


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
