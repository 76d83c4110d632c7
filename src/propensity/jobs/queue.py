"""The huey side: one huey instance per (settings, database), one task `run_job(job_id)`.

Storage is SQLite at HOME/huey.db by default and Redis when PROPENSITY_REDIS_URL is set.
Queue messages carry only a job id; the jobs table is the source of truth, so a lost or
duplicated message is repaired by recovery and ignored by the claim respectively.

Messages carry the job's priority: both storages hand out the highest priority first, and
messages of equal priority in the order they were sent. On Redis that takes huey's priority
storage (a sorted set, Redis >= 5); a queue left as a list by an earlier version is moved
into it when the queue is created.
"""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa
from huey import PriorityRedisHuey, SqliteHuey, crontab
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from propensity.db import Database, get_database
from propensity.jobs import registry
from propensity.jobs.runner import JobRunner
from propensity.logs import get_logger
from propensity.settings import Settings, get_settings

log = get_logger(__name__)

DEFAULT_QUEUE_NAME = "propensity"
RUN_JOB_TASK = "run_job"
RECOVERY_TASK = "jobs.recover"


def _create_huey(settings: Settings, name: str) -> Any:
    # results=False: outcomes live in the jobs table, huey's result store would only grow.
    if settings.redis_url:
        huey = PriorityRedisHuey(name, url=settings.redis_url, results=False)
        _adopt_list_queue(huey.storage)
        return huey
    settings.home.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(settings.home / "huey.db"), results=False, timeout=30)


def _adopt_list_queue(storage: Any) -> None:
    """Moves the messages of a plain-list queue (before priorities) into the sorted set, oldest
    first at priority 0. LRANGE and DEL run as one transaction, so of several processes starting
    at once exactly one moves them."""
    key = storage.queue_key
    if storage.conn.type(key) not in (b"list", "list"):
        return
    with storage.conn.pipeline(transaction=True) as pipe:
        pipe.lrange(key, 0, -1)
        pipe.delete(key)
        messages, _ = pipe.execute()
    for message in reversed(messages):  # LPUSH put the newest on the left
        storage.enqueue(message, 0)
    log.info("queue_adopted_for_priorities", queue=storage.name, messages=len(messages))


class JobQueue:
    """Enqueues `run_job` messages and, inside a consumer, runs them."""

    def __init__(
        self, settings: Settings, database: Database, *, name: str = DEFAULT_QUEUE_NAME
    ) -> None:
        self.settings = settings
        self.database = database
        self.name = name
        self.backend = "redis" if settings.redis_url else "sqlite"
        self.huey: Any = _create_huey(settings, name)
        self.runner = JobRunner(database, settings, enqueue=self.enqueue_run)
        # huey retries only failures before the claim (database briefly unreachable); once
        # claimed, a job's own retries are decided by the runner and recovery.
        self._run_task: Any = self.huey.task(name=RUN_JOB_TASK, retries=2, retry_delay=5)(self._run)
        self._periodic: set[str] = set()

    def _run(self, job_id: str) -> None:
        self.runner.run(job_id)

    def enqueue_run(self, job_id: str, delay_seconds: float = 0.0, priority: int = 0) -> None:
        if delay_seconds > 0:
            self._run_task.schedule(args=(job_id,), delay=delay_seconds, priority=priority)
        else:
            self.huey.enqueue(self._run_task.s(job_id, priority=priority))

    def register_periodic(self) -> None:
        """Make every periodic task declared so far known to this huey instance.

        Includes recovery every five minutes, so a job stuck behind a live but wedged worker
        is recovered without waiting for the next restart.
        """
        if RECOVERY_TASK not in self._periodic:
            self.huey.periodic_task(crontab(minute="*/5"), name=RECOVERY_TASK)(self._recover)
            self._periodic.add(RECOVERY_TASK)
        for spec in registry.periodic_specs():
            if spec.name in self._periodic:
                continue
            self.huey.periodic_task(spec.schedule, name=spec.name)(self._periodic_body(spec))
            self._periodic.add(spec.name)

    def _periodic_body(self, spec: registry.PeriodicSpec) -> Any:
        def run() -> None:
            log.info("periodic_task_started", task=spec.name)
            try:
                spec.fn(self.database, self.settings)
            except Exception:
                log.exception("periodic_task_failed", task=spec.name)
                return
            log.info("periodic_task_finished", task=spec.name)

        return run

    def _recover(self) -> None:
        from propensity.jobs.recovery import recover_interrupted_jobs

        # Lost messages are looked for at start only: that reads the whole queue.
        recover_interrupted_jobs(self.database, self.settings, queue=self, resend_lost=False)

    def waiting_job_ids(self) -> set[str]:
        """Job ids with a message in the queue or the schedule (read in full: recovery only)."""
        tasks = list(self.huey.pending()) + list(self.huey.scheduled())
        return {str(task.args[0]) for task in tasks if task.args}

    def pending_count(self) -> int:
        return int(self.huey.pending_count()) + int(self.huey.scheduled_count())

    def close(self) -> None:
        unbind_queue(self.database, self)
        self.huey.storage.close()


_bound: dict[Engine, JobQueue] = {}
_by_settings: dict[tuple[str, str, str | None, str], JobQueue] = {}
_lock = threading.Lock()


def bind_queue(database: Database, queue: JobQueue) -> None:
    """Jobs enqueued through sessions of `database` go to `queue` (consumers bind theirs)."""
    with _lock:
        _bound[database.engine] = queue


def unbind_queue(database: Database, queue: JobQueue | None = None) -> None:
    with _lock:
        if queue is None or _bound.get(database.engine) is queue:
            _bound.pop(database.engine, None)


def get_queue(settings: Settings, database: Database | None = None) -> JobQueue:
    """The process's queue for these settings (created once)."""
    database = database or get_database(settings)
    key = (DEFAULT_QUEUE_NAME, str(settings.home), settings.redis_url, database.url)
    with _lock:
        queue = _by_settings.get(key)
        if queue is None:
            queue = _by_settings[key] = JobQueue(settings, database)
        return queue


def queue_for_session(session: Session) -> JobQueue:
    """The queue bound to the session's database, else the configured one for it."""
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, sa.Connection) else bind
    with _lock:
        queue = _bound.get(engine)
    if queue is not None:
        return queue
    settings = get_settings()
    if sa.make_url(settings.resolved_database_url) != engine.url:
        raise RuntimeError(
            "no job queue is bound to this database: start a consumer for it or call "
            "propensity.jobs.bind_queue(database, JobQueue(settings, database))"
        )
    return get_queue(settings, get_database(settings))
