"""`propensity serve`: migrations, job recovery, an embedded job consumer and the API."""

from __future__ import annotations

import signal
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import uvicorn

from propensity.logs import configure_logging, get_logger
from propensity.migrate import upgrade
from propensity.settings import Settings

log = get_logger(__name__)


def _embedded_consumer(settings: Settings) -> AbstractContextManager[Any]:
    from propensity.jobs.consumer import embedded_consumer

    return embedded_consumer(settings)


def serve(
    *,
    settings: Settings,
    host: str,
    port: int,
    workers: int = 1,
    with_consumer: bool = True,
) -> None:
    configure_logging(level=settings.log_level, json=settings.log_json)
    upgrade(settings.resolved_database_url)
    settings.signing_key()
    consumer = _embedded_consumer(settings) if with_consumer else nullcontext()
    # uvicorn re-raises SIGTERM after its own shutdown; as KeyboardInterrupt it unwinds
    # this `with` block instead, so the consumer requeues its running jobs gracefully.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with consumer:
        log.info("serving", host=host, port=port, workers=workers, consumer=with_consumer)
        uvicorn.run(
            "propensity.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level.lower(),
            access_log=False,
        )
