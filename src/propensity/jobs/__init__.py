"""Background jobs: a jobs table the API reports, run by huey consumers.

Define a handler in `propensity/<domain>/tasks.py` (workers import those modules):

    @job_handler("batch_score")
    def batch_score(ctx: JobContext) -> dict[str, Any]:
        ...
        ctx.progress(done, total=n, stage="scoring")   # also where cancellation lands
        return {"scored": n}

Enqueue from request code, in the request's tenant session; the message is sent when the
transaction commits:

    job = enqueue_job(session, type="batch_score", params={...}, created_by=user_id)
    session.commit()

Work that many workers share is a `ChunkedJob` (see its docstring); work on a schedule is
a `periodic_task`. Run jobs with `propensity worker`, or `start_embedded_consumer(settings)`
inside a server. Handlers must be idempotent: a killed worker's job runs again.
"""

from huey import crontab

from propensity.jobs.consumer import (
    EmbeddedConsumer,
    embedded_consumer,
    run_worker,
    start_embedded_consumer,
)
from propensity.jobs.context import (
    JobCancelled,
    JobContext,
    JobDeferred,
    JobInterrupted,
    JobLost,
    JobStopped,
)
from propensity.jobs.queue import JobQueue, bind_queue, get_queue, unbind_queue
from propensity.jobs.recovery import RecoveryReport, recover_interrupted_jobs
from propensity.jobs.registry import (
    ChunkedJob,
    JobResult,
    chunked_job_handler,
    discover_handlers,
    job_handler,
    periodic_task,
)
from propensity.jobs.service import cancel_job, enqueue_job, get_job, list_jobs
from propensity.models import Job, JobStatus

__all__ = [
    "ChunkedJob",
    "EmbeddedConsumer",
    "Job",
    "JobCancelled",
    "JobContext",
    "JobDeferred",
    "JobInterrupted",
    "JobLost",
    "JobQueue",
    "JobResult",
    "JobStatus",
    "JobStopped",
    "RecoveryReport",
    "bind_queue",
    "cancel_job",
    "chunked_job_handler",
    "crontab",
    "discover_handlers",
    "embedded_consumer",
    "enqueue_job",
    "get_job",
    "get_queue",
    "job_handler",
    "list_jobs",
    "periodic_task",
    "recover_interrupted_jobs",
    "run_worker",
    "start_embedded_consumer",
    "unbind_queue",
]
