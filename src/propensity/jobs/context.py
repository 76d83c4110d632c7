"""What a job handler sees while it runs: its params, a tenant-scoped session, progress."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from propensity.db import Database
from propensity.jobs import store
from propensity.models import JobStatus
from propensity.settings import Settings


class JobStopped(BaseException):
    """Ends a handler early. A BaseException, so a handler's own `except Exception` that
    guards a risky step cannot swallow a cancellation or a shutdown by accident."""


class JobCancelled(JobStopped):
    """Someone cancelled the job; it ends as `cancelled`."""


class JobInterrupted(JobStopped):
    """The worker is shutting down; the job goes back to the queue for another worker."""


class JobLost(JobStopped):
    """This run no longer owns the job (it was presumed dead and handed to another run)."""


class JobDeferred(JobStopped):
    """The job cannot run now (a concurrency limit is reached): it goes back to the queue,
    to be run after `delay_seconds`, without counting as an attempt. Raise it before doing
    any work the job would have to undo."""

    def __init__(self, delay_seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.delay_seconds = delay_seconds
        self.reason = reason


@dataclass
class JobContext:
    """Passed to every handler.

    Handlers must be idempotent: a run can be interrupted at any point (a killed worker, a
    deploy) and the job is then run again from the start. Write results with upserts or
    delete-then-insert keyed by the job's inputs, never with blind inserts or increments.
    """

    job_id: str
    type: str
    tenant_id: int
    params: dict[str, Any]
    attempt: int
    total: int | None
    database: Database
    settings: Settings
    chunk_index: int | None = None
    # Threads of the consumer running the job (1 outside a consumer): handlers that limit
    # their own concurrency leave at least one thread for other jobs.
    consumer_threads: int = 1
    _claim: store.Claim | None = field(default=None, repr=False)
    _shutting_down: threading.Event = field(default_factory=threading.Event, repr=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work scoped to the job's tenant: committed on success, rolled back on error."""
        with self.database.tenant_session(self.tenant_id) as session:
            yield session

    def progress(self, completed: int, total: int | None = None, stage: str | None = None) -> None:
        """Record progress (own short transaction) and check for cancellation or shutdown.

        Call it at a sensible grain (per batch of rows, not per row): each call is one write.
        Raises JobCancelled, JobInterrupted or JobLost, which the runner handles.
        """
        if self._shutting_down.is_set():
            raise JobInterrupted
        if total is not None:
            self.total = total
        if self._claim is None:
            return
        fraction = min(max(completed / self.total, 0.0), 1.0) if self.total else 0.0
        written = store.record_progress(
            self.database,
            self._claim,
            completed=completed,
            total=total,
            stage=stage,
            fraction=fraction,
        )
        if not written:
            self._raise_stopped()

    def check(self) -> None:
        """Raise if the job was cancelled or the worker is stopping, without recording progress."""
        if self._shutting_down.is_set():
            raise JobInterrupted
        if self._claim is not None and not store.heartbeat(self.database, self._claim):
            self._raise_stopped()

    def _raise_stopped(self) -> None:
        assert self._claim is not None
        if store.status_of(self.database, self._claim.job_id) == JobStatus.CANCELLED:
            raise JobCancelled
        raise JobLost
