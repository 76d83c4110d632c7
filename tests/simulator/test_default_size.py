"""The default demo size generates fast enough for the demo's 3-minute budget."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from propensity.simulator import SimulationConfig, simulate


@pytest.mark.slow
def test_default_config_is_fast_and_sized_for_the_demo() -> None:
    config = SimulationConfig(end=dt.date(2025, 6, 1))
    began = time.perf_counter()
    data = simulate(config)
    elapsed = time.perf_counter() - began
    assert elapsed < 30.0
    assert len(data.accounts) == 2000
    assert len(data.subscribers) == 20000
    assert len(data.leads) == 10000
    assert len(data.deals) == 3000
    assert 800_000 <= len(data.events) <= 1_500_000
    # The documented base rates hold at full size too.
    rates = data.truth.rates
    assert 0.10 <= rates["account_annual_churn"] <= 0.20
    assert 0.20 <= rates["subscriber_churned_share"] <= 0.35
    assert 0.15 <= rates["lead_converted_share"] <= 0.25
