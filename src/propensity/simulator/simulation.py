"""The entry point: one tenant's CRM data from a seed and an end date."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from propensity.simulator.accounts import simulate_accounts
from propensity.simulator.config import SimulationConfig, rng_for, window_for
from propensity.simulator.deals import simulate_deals
from propensity.simulator.events import assemble
from propensity.simulator.leads import simulate_leads
from propensity.simulator.subscribers import simulate_subscribers
from propensity.simulator.truth import Truth, build_truth, realised_rates

Progress = Callable[[str, float], None]

# Stage numbers seed independent random streams: never renumber, or every dataset changes.
_STAGE_ACCOUNTS, _STAGE_SUBSCRIBERS, _STAGE_LEADS, _STAGE_DEALS = 1, 2, 3, 4
STAGES = ("accounts", "subscribers", "leads", "deals", "events", "truth")


# eq=False: comparing DataFrames with == is elementwise, so a generated __eq__ would raise.
@dataclass(frozen=True, kw_only=True, eq=False)
class SimulatedData:
    """The import files of one tenant plus the truth behind them (see docs/simulator.md)."""

    config: SimulationConfig
    accounts: pd.DataFrame
    subscribers: pd.DataFrame
    leads: pd.DataFrame
    events: pd.DataFrame
    health: pd.DataFrame
    deals: pd.DataFrame
    truth: Truth

    def frames(self) -> dict[str, pd.DataFrame]:
        """The six import frames by file name."""
        return {
            "accounts": self.accounts,
            "subscribers": self.subscribers,
            "leads": self.leads,
            "events": self.events,
            "health": self.health,
            "deals": self.deals,
        }


def simulate(config: SimulationConfig, *, progress: Progress | None = None) -> SimulatedData:
    """Generate every frame; ``progress(stage, fraction)`` is called as each stage starts and
    ends (stages in ``STAGES`` order)."""

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    window = window_for(config)
    report("accounts", 0.0)
    accounts = simulate_accounts(config=config, window=window, rng=rng_for(config, _STAGE_ACCOUNTS))
    report("accounts", 1.0)
    report("subscribers", 0.0)
    subscribers = simulate_subscribers(
        config=config, window=window, rng=rng_for(config, _STAGE_SUBSCRIBERS)
    )
    report("subscribers", 1.0)
    report("leads", 0.0)
    leads = simulate_leads(config=config, window=window, rng=rng_for(config, _STAGE_LEADS))
    report("leads", 1.0)
    report("deals", 0.0)
    deals = simulate_deals(config=config, window=window, rng=rng_for(config, _STAGE_DEALS))
    report("deals", 1.0)
    report("events", 0.0)
    events = assemble(chunks=[*accounts.events, *subscribers.events, *leads.events], window=window)
    report("events", 1.0)
    report("truth", 0.0)
    start = pd.Timestamp(window.start_seconds, unit="s", tz="UTC")
    end = pd.Timestamp(window.end_seconds, unit="s", tz="UTC")
    rates = realised_rates(
        accounts=accounts.accounts,
        subscribers=subscribers.subscribers,
        leads=leads.leads,
        deals=deals,
        events=events,
        start=start,
        end=end,
    )
    report("truth", 1.0)
    return SimulatedData(
        config=config,
        accounts=accounts.accounts,
        subscribers=subscribers.subscribers,
        leads=leads.leads,
        events=events,
        health=accounts.health,
        deals=deals,
        truth=build_truth(rates=rates),
    )
