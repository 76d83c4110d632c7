"""Fixtures of the feature tests; the data builders are in helpers.py."""

from __future__ import annotations

import pytest

from propensity.db import Database
from propensity.simulator import SimulatedData, simulate
from tests.features.helpers import SMALL_SIM, new_tenant


@pytest.fixture(scope="session")
def small_sim() -> SimulatedData:
    return simulate(SMALL_SIM)


@pytest.fixture
def tenant(database: Database) -> int:
    return new_tenant(database, "acme")
