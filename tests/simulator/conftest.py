"""Shared simulations: generated once per test session, read by many tests."""

from __future__ import annotations

import datetime as dt

import pytest

from propensity.simulator import SimulatedData, SimulationConfig, simulate

END = dt.date(2025, 6, 1)

SMALL = SimulationConfig(
    seed=11, end=END, n_accounts=150, n_subscribers=600, n_leads=500, n_deals=120
)
# Large enough for base rates and grouped effects to be stable, small enough to take ~1 s.
MEDIUM = SimulationConfig(
    seed=5, end=END, n_accounts=1000, n_subscribers=8000, n_leads=6000, n_deals=3000
)


@pytest.fixture(scope="session")
def small() -> SimulatedData:
    return simulate(SMALL)


@pytest.fixture(scope="session")
def medium() -> SimulatedData:
    return simulate(MEDIUM)
