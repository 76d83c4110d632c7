"""RetainStream tests that train through POST /api/model/train need a job consumer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from propensity.db import Database
from propensity.jobs.consumer import start_embedded_consumer
from propensity.settings import Settings


@pytest.fixture
def jobs_running(settings: Settings, database: Database) -> Iterator[None]:
    consumer = start_embedded_consumer(settings, database=database, periodic=False)
    try:
        yield
    finally:
        consumer.stop(timeout=10)
