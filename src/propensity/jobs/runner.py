"""Runs one job: claim the row, run its handler under a heartbeat, record how it ended."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
import structlog

from propensity.db import Database
from propensity.errors import PropensityError
from propensity.jobs import chunks, registry, store
from propensity.jobs.context import (
    JobCancelled,
    JobContext,
    JobDeferred,
    JobInterrupted,
    JobLost,
)
from propensity.logs import get_logger
from propensity.metrics import JOB_FAILURES, JOB_SECONDS
from propensity.settings import Settings

log = get_logger(__name__)

T = TypeVar("T")
MAX_RETRY_DELAY_SECONDS = 30.0


class Enqueue(Protocol):
    def __call__(self, job_id: str, delay_seconds: float = 0.0, priority: int = 0) -> None: ...


def user_error(exc: BaseException) -> str:
    """The error text users see: a message, never a traceback (that goes to the log).

    Database errors carry SQL and parameters, so users get only their kind.
    """
    if isinstance(exc, PropensityError):
        text = exc.message
    elif isinstance(exc, sa.exc.SQLAlchemyError):
        text = f"Database error ({type(exc).__name__}); the worker log has the details"
    else:
        lines = str(exc).strip().splitlines()
        text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text[: store.ERROR_MAX_CHARS]


class _Heartbeat:
    """Keeps `heartbeat_at` fresh while a handler runs, so a long step between two
    progress calls does not look like a dead worker to recovery."""

    def __init__(self, database: Database, claim: store.Claim, interval: float) -> None:
        self._database = database
        self._claim = claim
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"heartbeat-{claim.job_id[:8]}", daemon=True
        )

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval + 5)

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                if not store.heartbeat(self._database, self._claim):
                    return  # cancelled or taken over: the handler finds out at its next check
            except Exception:
                log.warning("job_heartbeat_failed", job_id=self._claim.job_id, exc_info=True)


class JobRunner:
    def __init__(self, database: Database, settings: Settings, enqueue: Enqueue) -> None:
        self.database = database
        self.settings = settings
        self._enqueue = enqueue
        # Set when the consumer stops: handlers end at their next progress() and requeue.
        self.shutting_down = threading.Event()
        # The consumer running this runner sets its own thread count (handlers read it).
        self.threads = settings.worker_threads

    @property
    def heartbeat_interval(self) -> float:
        return max(1.0, self.settings.job_stale_after_seconds / 4)

    def run(self, job_id: str) -> None:
        job = store.claim(self.database, job_id)
        if job is None:
            # Finished, cancelled, running elsewhere, or rolled back: a duplicate message.
            log.info("job_not_claimed", job_id=job_id)
            return
        with structlog.contextvars.bound_contextvars(
            job_id=job_id, job_type=job.type, attempt=job.claim.attempt
        ):
            log.info("job_started", worker=job.claim.worker)
            self._dispatch(job)

    def _dispatch(self, job: store.ClaimedJob) -> None:
        spec = registry.lookup(job.type)
        if chunks.is_chunk(job.type):
            parent_id, index, params = chunks.chunk_params(job.params)
            if spec is None or spec.chunked is None:
                self._unknown_type(job)
            else:
                ctx = self._context(job, params=params, chunk_index=index)
                self._run_to_end(job, ctx, spec.chunked.run_chunk, retry=spec.retry_on_error)
            self.advance_parent(parent_id)
        elif spec is None:
            self._unknown_type(job)
        elif spec.chunked is not None:
            self._plan(job, spec.chunked, retry=spec.retry_on_error)
        else:
            assert spec.handler is not None
            self._run_to_end(job, self._context(job), spec.handler, retry=spec.retry_on_error)

    def _unknown_type(self, job: store.ClaimedJob) -> None:
        log.error("job_type_unknown")
        store.fail(self.database, job.claim, f"No handler is registered for job type '{job.type}'")

    def _context(
        self,
        job: store.ClaimedJob,
        *,
        params: dict[str, Any] | None = None,
        chunk_index: int | None = None,
    ) -> JobContext:
        return JobContext(
            job_id=job.claim.job_id,
            type=job.type,
            tenant_id=job.tenant_id,
            params=job.params if params is None else params,
            attempt=job.claim.attempt,
            total=job.total,
            database=self.database,
            settings=self.settings,
            chunk_index=chunk_index,
            consumer_threads=self.threads,
            _claim=job.claim,
            _shutting_down=self.shutting_down,
        )

    def _guarded(
        self,
        job: store.ClaimedJob,
        ctx: JobContext,
        body: Callable[[JobContext], T],
        *,
        retry: bool,
    ) -> tuple[bool, T | None]:
        """Run `body` under a heartbeat; on any way out but success, record it on the row."""
        claim = job.claim
        started = time.perf_counter()
        outcome = "failed"
        try:
            with _Heartbeat(self.database, claim, self.heartbeat_interval):
                try:
                    result = body(ctx)
                    outcome = "succeeded"
                    return True, result
                except JobCancelled:
                    outcome = "cancelled"
                    store.cancel(self.database, claim)  # a no-op when a cancel request ended it
                    log.info("job_cancelled")
                except JobInterrupted:
                    outcome = "interrupted"
                    if store.requeue(self.database, claim, error=None, refund_attempt=True):
                        self._enqueue(claim.job_id, 0.0, job.priority)
                    log.info("job_interrupted_requeued")
                except JobDeferred as deferred:
                    outcome = "deferred"
                    # The jobs table stays the source of truth: the row is queued again and
                    # its message scheduled; recovery re-sends it if that message is lost.
                    if store.defer(self.database, claim):
                        self._enqueue(claim.job_id, deferred.delay_seconds, job.priority)
                    log.info("job_deferred", reason=deferred.reason, delay=deferred.delay_seconds)
                except JobLost:
                    outcome = "lost"
                    log.warning("job_lost_to_another_run")
                except Exception as exc:
                    JOB_FAILURES.labels(type=job.type).inc()
                    self._on_error(job, exc, retry=retry)
            return False, None
        finally:
            JOB_SECONDS.labels(type=job.type, outcome=outcome).observe(
                time.perf_counter() - started
            )

    def _on_error(self, job: store.ClaimedJob, exc: Exception, *, retry: bool) -> None:
        message = user_error(exc)
        attempt = job.claim.attempt
        if retry and attempt < self.settings.job_max_attempts:
            log.exception("job_attempt_failed_retrying", error_type=type(exc).__name__)
            delay = min(MAX_RETRY_DELAY_SECONDS, 2.0 ** (attempt - 1))
            note = f"Attempt {attempt} failed: {message}; retrying"
            if store.requeue(self.database, job.claim, error=note, refund_attempt=False):
                self._enqueue(job.claim.job_id, delay, job.priority)
            return
        log.exception("job_failed", error_type=type(exc).__name__)
        if isinstance(exc, PropensityError):
            store.fail(self.database, job.claim, message, code=exc.code, status=exc.status_code)
        else:
            store.fail(self.database, job.claim, message)

    def _run_to_end(
        self,
        job: store.ClaimedJob,
        ctx: JobContext,
        handler: registry.JobHandler,
        *,
        retry: bool,
    ) -> None:
        ok, result = self._guarded(job, ctx, handler, retry=retry)
        if not ok:
            return
        try:
            if result is not None and not isinstance(result, dict):
                raise TypeError(f"a handler returns a dict or None, not {type(result).__name__}")
            store.check_json(result)
        except (TypeError, ValueError) as exc:
            log.error("job_result_invalid", error=str(exc))
            store.fail(self.database, job.claim, f"The job's result could not be stored: {exc}")
            return
        if store.complete(self.database, job.claim, result):
            log.info("job_completed")
        else:
            log.info("job_result_discarded")  # cancelled or taken over while finishing

    def _plan(self, job: store.ClaimedJob, spec: registry.ChunkedJob, *, retry: bool) -> None:
        ok, planned = self._guarded(job, self._context(job), spec.plan, retry=retry)
        if not ok or planned is None:
            return
        try:
            planned = [dict(chunk) for chunk in planned]
            store.check_json({"chunks": planned})
            if len(planned) > chunks.MAX_CHUNKS:
                raise ValueError(f"{len(planned)} chunks planned, at most {chunks.MAX_CHUNKS}")
        except (TypeError, ValueError) as exc:
            log.error("job_plan_invalid", error=str(exc))
            store.fail(self.database, job.claim, f"The job's chunk plan is invalid: {exc}")
            return
        queued = chunks.create_chunks(self.database, job, planned)
        if queued is None:
            log.info("job_plan_discarded")
            return
        for cid in queued:
            self._enqueue(cid, 0.0, job.priority)
        log.info("job_chunks_planned", chunks=len(planned), enqueued=len(queued))
        self.advance_parent(job.claim.job_id)  # no chunks, or all done before a re-plan

    def advance_parent(self, parent_id: str) -> None:
        """After a chunk ends: update the parent; the worker that completes the last chunk
        runs `combine` for the parent."""
        parent = chunks.settle(self.database, parent_id)
        if parent is None:
            return
        spec = registry.lookup(parent.type)
        if spec is None or spec.chunked is None:
            self._unknown_type(parent)
            return
        chunked = spec.chunked
        results = chunks.results(self.database, parent_id, parent.total or 0)
        with structlog.contextvars.bound_contextvars(job_id=parent_id, job_type=parent.type):
            log.info("job_combining", chunks=len(results))
            self._run_to_end(
                parent,
                self._context(parent),
                lambda ctx: chunked.combine(ctx, results),
                retry=spec.retry_on_error,
            )
