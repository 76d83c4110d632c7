"""Running huey consumers: `propensity worker` in the foreground, or embedded in `serve`."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from huey.consumer import Consumer, ConsumerStopped, Scheduler

from propensity.db import Database, get_database
from propensity.jobs import registry
from propensity.jobs.queue import DEFAULT_QUEUE_NAME, JobQueue, bind_queue, unbind_queue
from propensity.jobs.recovery import recover_interrupted_jobs
from propensity.logs import get_logger
from propensity.settings import Settings

log = get_logger(__name__)

DEFAULT_SHUTDOWN_TIMEOUT = 30.0


class _Scheduler(Scheduler):
    """Fires each periodic task once per scheduled minute however many consumers run:
    every consumer's scheduler checks, the first to take the minute's key enqueues."""

    def enqueue_periodic_tasks(self, now: datetime | None) -> None:
        moment = now or datetime.now(UTC).replace(tzinfo=None)
        for task in self.huey.read_periodic(moment):
            key = f"periodic:{task.name}:{moment:%Y%m%d%H%M}"
            try:
                if self.huey.put_if_empty(key, "1"):
                    self.huey.enqueue(task)
            except Exception:
                log.exception("periodic_enqueue_failed", task=task.name)


class _Consumer(Consumer):
    scheduler_class = _Scheduler

    def __init__(self, queue: JobQueue, *, handle_signals: bool, **options: Any) -> None:
        self._queue = queue
        self._handle_signals = handle_signals
        super().__init__(queue.huey, **options)
        queue.runner.threads = self.workers
        # huey 3 treats SIGTERM as "stop now" unless told otherwise; both are graceful here
        # (a second signal still interrupts). SIGHUP's re-exec is not wanted either.
        self._signal_actions = {signal.SIGINT: (False, True), signal.SIGTERM: (False, True)}

    def _set_signal_handlers(self) -> None:
        # Embedded in a server, the server owns the signals (and this is not the main thread).
        if self._handle_signals:
            super()._set_signal_handlers()

    def stop(self, graceful: bool = False) -> None:
        # Running handlers end at their next progress() call and go back to the queue,
        # so a graceful stop is quick and loses no work.
        self._queue.runner.shutting_down.set()
        super().stop(graceful=graceful)


def _options(
    settings: Settings, threads: int | None, periodic: bool, shutdown_timeout: float
) -> dict[str, Any]:
    return {
        "workers": threads or settings.worker_threads,
        "worker_type": "thread",
        "periodic": periodic,
        "initial_delay": 0.1,
        "backoff": 1.15,
        "max_delay": 1.0,  # SQLite storage polls; huey's default 10 s makes jobs wait
        "scheduler_interval": 1,
        "shutdown_timeout": shutdown_timeout,
    }


def _prepare(
    settings: Settings,
    database: Database | None,
    queue: JobQueue | None,
    imports: Sequence[str],
    queue_name: str,
) -> JobQueue:
    registry.discover_handlers(imports)
    database = database or (queue.database if queue else get_database(settings))
    queue = queue or JobQueue(settings, database, name=queue_name)
    bind_queue(database, queue)
    queue.register_periodic()
    queue.runner.shutting_down.clear()
    recover_interrupted_jobs(database, settings, queue=queue)
    return queue


def run_worker(
    settings: Settings,
    *,
    threads: int | None = None,
    imports: Sequence[str] = (),
    queue_name: str = DEFAULT_QUEUE_NAME,
    periodic: bool = True,
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
) -> None:
    """Run a consumer in the foreground until SIGTERM or SIGINT (the `worker` command)."""
    queue = _prepare(settings, None, None, imports, queue_name)
    consumer = _Consumer(
        queue,
        handle_signals=True,
        **_options(settings, threads, periodic, shutdown_timeout),
    )
    log.info("worker_started", backend=queue.backend, queue=queue.name, threads=consumer.workers)
    try:
        consumer.run()
    finally:
        queue.close()
        log.info("worker_stopped")


class EmbeddedConsumer:
    """A consumer on background threads of the current process; `stop()` ends it."""

    def __init__(self, consumer: _Consumer, queue: JobQueue, *, owns_queue: bool) -> None:
        self.queue = queue
        self._consumer = consumer
        self._owns_queue = owns_queue
        self._supervisor = threading.Thread(
            target=self._supervise, name="huey-supervisor", daemon=True
        )

    def _start(self) -> None:
        self._consumer.start()
        self._supervisor.start()

    def _supervise(self) -> None:
        # What Consumer.run() does minus signals: restart worker threads that died.
        checked = time.monotonic()
        while True:
            try:
                checked = self._consumer.loop(checked)
            except ConsumerStopped:
                return

    @property
    def running(self) -> bool:
        return self._supervisor.is_alive()

    def stop(self, timeout: float | None = None) -> None:
        """Stop taking jobs; running handlers end at their next progress() and requeue.

        Waits up to the consumer's shutdown timeout for handlers that do not call
        progress(); what is still running then is recovered at the next start.
        """
        if timeout is not None:
            self._consumer.shutdown_timeout = timeout
        self._consumer.stop(graceful=True)
        self._supervisor.join(timeout=5)
        if self._owns_queue:
            self.queue.close()
        else:
            unbind_queue(self.queue.database, self.queue)
        log.info("embedded_consumer_stopped", queue=self.queue.name)

    def __enter__(self) -> EmbeddedConsumer:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_embedded_consumer(
    settings: Settings,
    *,
    database: Database | None = None,
    queue: JobQueue | None = None,
    threads: int | None = None,
    imports: Sequence[str] = (),
    periodic: bool = True,
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
) -> EmbeddedConsumer:
    """Start a consumer inside this process (as `propensity serve` does); call `.stop()`
    on shutdown. Recovers interrupted jobs first and binds the queue to the database, so
    `enqueue_job` in this process sends to it."""
    owns_queue = queue is None
    queue = _prepare(settings, database, queue, imports, DEFAULT_QUEUE_NAME)
    consumer = _Consumer(
        queue, handle_signals=False, **_options(settings, threads, periodic, shutdown_timeout)
    )
    embedded = EmbeddedConsumer(consumer, queue, owns_queue=owns_queue)
    embedded._start()
    log.info("embedded_consumer_started", backend=queue.backend, threads=consumer.workers)
    return embedded


def embedded_consumer(settings: Settings, **options: Any) -> EmbeddedConsumer:
    """`with embedded_consumer(settings):` runs a consumer for the block (`propensity serve`).

    Takes the keyword options of `start_embedded_consumer`.
    """
    return start_embedded_consumer(settings, **options)
