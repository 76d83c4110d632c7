"""Queue fixtures shared by the job tests and the jobs API tests (see tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from propensity.db import Database
from propensity.jobs import JobQueue
from propensity.settings import Settings
from tests.jobs.support import BACKENDS, own_queue, settings_for


@pytest.fixture(params=BACKENDS)
def cfg(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """For tests of queue behaviour: run on each huey storage."""
    return settings_for(settings, request.param)


@pytest.fixture
def queue(cfg: Settings, database: Database) -> Iterator[JobQueue]:
    with own_queue(cfg, database) as q:
        yield q
