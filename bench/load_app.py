"""An app factory for `uvicorn --factory --workers N` in the load benchmark.

uvicorn imports the factory anew in every worker process it spawns. `propensity serve`
configures logging in the parent process only, so its workers would log with structlog's
defaults (every request, any level, to stdout). Configuring logging here, inside each
worker, makes PROPENSITY_LOG_LEVEL apply to the workers the benchmark measures.

    uvicorn load_app:app --factory --app-dir bench --workers 2
"""

from __future__ import annotations

from fastapi import FastAPI

from propensity.app import create_app
from propensity.logs import configure_logging
from propensity.settings import get_settings


def app() -> FastAPI:
    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    created: FastAPI = create_app(settings)
    return created
