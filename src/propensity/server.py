"""`propensity serve`: migrations, job recovery, an embedded job consumer and the API."""

from __future__ import annotations

import os
import shutil
import signal
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import uvicorn

from propensity.logs import configure_logging, get_logger
from propensity.migrate import upgrade
from propensity.settings import Settings

log = get_logger(__name__)
# prometheus_client's setting, named here so that importing this module creates no metric.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _embedded_consumer(settings: Settings) -> AbstractContextManager[Any]:
    from propensity.jobs.consumer import embedded_consumer

    return embedded_consumer(settings)


def _share_metrics(settings: Settings) -> None:
    """Several workers: each writes its metrics where a scrape of any of them reads all
    (prometheus_client's multi-process mode). Set before any worker, or this process's job
    consumer, creates a metric; emptied so a restart does not add up the previous run's."""
    folder = settings.home / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(folder)


def serve(
    *,
    settings: Settings,
    host: str,
    port: int,
    workers: int = 1,
    with_consumer: bool = True,
) -> None:
    configure_logging(level=settings.log_level, json=settings.log_json)
    if workers > 1:
        _share_metrics(settings)
        if not settings.redis_url:
            # The workers share their rate-limit counters in a file of this machine; replicas
            # on other machines need Redis for that.
            shared = settings.home / "ratelimits.sqlite"
            os.environ["PROPENSITY_RATELIMIT_SHARED_PATH"] = str(shared)
            log.info(
                "limits_shared_by_file",
                workers=workers,
                path=str(shared),
                detail="rate limits and daily quotas are counted across this machine's "
                "workers; set PROPENSITY_REDIS_URL to share them across machines",
            )
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
