"""`propensity worker`: a huey consumer in the foreground."""

from __future__ import annotations

from typing import Annotated

import typer

from propensity.jobs.consumer import DEFAULT_SHUTDOWN_TIMEOUT, run_worker
from propensity.jobs.queue import DEFAULT_QUEUE_NAME
from propensity.logs import configure_logging
from propensity.settings import get_settings


def worker(
    threads: Annotated[
        int | None,
        typer.Option(min=1, max=32, help="Worker threads [default: PROPENSITY_WORKER_THREADS]"),
    ] = None,
    imports: Annotated[
        list[str] | None,
        typer.Option(
            "--import",
            help="Also import this module for its job handlers (repeatable); "
            "propensity.<domain>.tasks modules are imported anyway",
        ),
    ] = None,
    queue_name: Annotated[
        str, typer.Option(help="Queue name; deployments sharing one Redis need distinct names")
    ] = DEFAULT_QUEUE_NAME,
    periodic: Annotated[
        bool, typer.Option("--periodic/--no-periodic", help="Schedule periodic tasks")
    ] = True,
    shutdown_timeout: Annotated[
        float,
        typer.Option(help="Seconds to wait for running handlers on SIGTERM/SIGINT"),
    ] = DEFAULT_SHUTDOWN_TIMEOUT,
) -> None:
    """Run jobs from the queue until SIGTERM or SIGINT (graceful: running jobs are requeued)."""
    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    run_worker(
        settings,
        threads=threads,
        imports=imports or (),
        queue_name=queue_name,
        periodic=periodic,
        shutdown_timeout=shutdown_timeout,
    )


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
