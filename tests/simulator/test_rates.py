"""Base rates stay in the documented ranges (docs/simulator.md, "Base rates")."""

from __future__ import annotations

import pandas as pd

from propensity.simulator import SimulatedData


def test_account_churn_is_10_to_20_percent_a_year(medium: SimulatedData) -> None:
    assert 0.10 <= medium.truth.rates["account_annual_churn"] <= 0.20
    assert 0.10 <= medium.truth.rates["account_churn_last_365d"] <= 0.22


def test_account_churn_happens_mostly_at_renewal(medium: SimulatedData) -> None:
    churned = medium.accounts.dropna(subset=["churned_at"])
    renewal = churned["renewal_date"].dt.tz_localize("UTC")
    offset = churned["churned_at"] - renewal
    at_renewal = offset.between(pd.Timedelta(days=-11), pd.Timedelta(days=3))
    assert at_renewal.mean() >= 0.7


def test_subscriber_churn_over_the_window_is_20_to_35_percent(medium: SimulatedData) -> None:
    assert 0.20 <= medium.truth.rates["subscriber_churned_share"] <= 0.35


def test_lead_conversion_is_15_to_25_percent(medium: SimulatedData) -> None:
    rates = medium.truth.rates
    assert 0.15 <= rates["lead_converted_share"] <= 0.25
    # Some leads are still open at end: the time-to-close data is censored.
    assert rates["lead_open_share"] >= 0.1
    total = rates["lead_converted_share"] + rates["lead_lost_share"] + rates["lead_open_share"]
    assert abs(total - 1.0) < 1e-9


def test_rates_in_truth_match_the_frames(medium: SimulatedData) -> None:
    rates = medium.truth.rates
    assert rates["events_total"] == len(medium.events)
    assert rates["subscriber_churned_share"] == medium.subscribers["churned_at"].notna().mean()
    assert rates["lead_converted_share"] == medium.leads["converted_at"].notna().mean()
