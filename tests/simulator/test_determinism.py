"""Same seed and end date, same data; anything else, different data."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from propensity.simulator import STAGES, SimulatedData, SimulationConfig, simulate
from tests.simulator.conftest import SMALL


def test_same_seed_and_end_give_identical_frames(small: SimulatedData) -> None:
    again = simulate(SMALL)
    for name, frame in small.frames().items():
        pd.testing.assert_frame_equal(frame, again.frames()[name], obj=name)
    assert again.truth == small.truth


def test_a_different_seed_gives_different_frames(small: SimulatedData) -> None:
    other = simulate(dataclasses.replace(SMALL, seed=SMALL.seed + 1))
    for name, frame in small.frames().items():
        assert not frame.equals(other.frames()[name]), name
    assert set(other.accounts["name"]) != set(small.accounts["name"])


def test_a_different_end_moves_the_window(small: SimulatedData) -> None:
    later = simulate(dataclasses.replace(SMALL, end=SMALL.end + dt.timedelta(days=30)))
    assert later.events["occurred_at"].max() > small.events["occurred_at"].max()
    assert later.events["occurred_at"].min() > small.events["occurred_at"].min()


def test_each_frame_has_its_own_random_stream(small: SimulatedData) -> None:
    """Resizing one kind of data must not reshuffle the others (stable demos and tests)."""
    more_leads = simulate(dataclasses.replace(SMALL, n_leads=SMALL.n_leads + 50))
    pd.testing.assert_frame_equal(small.accounts, more_leads.accounts)
    pd.testing.assert_frame_equal(small.subscribers, more_leads.subscribers)
    pd.testing.assert_frame_equal(small.health, more_leads.health)
    pd.testing.assert_frame_equal(small.deals, more_leads.deals)
    assert len(more_leads.leads) == len(small.leads) + 50


def test_default_end_is_today_in_utc() -> None:
    today = dt.datetime.now(dt.UTC).date()
    assert SimulationConfig().end in {today, today + dt.timedelta(days=1)}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("seed", -1, "seed"),
        ("history_days", 30, "history_days"),
        ("n_accounts", -5, "n_accounts"),
        ("n_leads", -1, "n_leads"),
        ("end", dt.datetime(2025, 1, 1, tzinfo=dt.UTC), "end"),
    ],
)
def test_bad_configs_are_rejected_with_the_field_named(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        SimulationConfig(**{field: value})  # type: ignore[arg-type]


def test_empty_sizes_give_empty_frames_with_all_columns() -> None:
    empty = simulate(
        SimulationConfig(seed=1, end=SMALL.end, n_accounts=0, n_subscribers=0, n_leads=0, n_deals=0)
    )
    for name, frame in empty.frames().items():
        assert frame.empty, name
        assert len(frame.columns) > 0, name


def test_progress_reports_every_stage_from_zero_to_one() -> None:
    seen: list[tuple[str, float]] = []
    simulate(
        dataclasses.replace(SMALL, n_accounts=20, n_subscribers=20, n_leads=20, n_deals=5),
        progress=lambda stage, fraction: seen.append((stage, fraction)),
    )
    assert [s for s, f in seen if f == 0.0] == list(STAGES)
    assert [s for s, f in seen if f == 1.0] == list(STAGES)
    assert all(0.0 <= f <= 1.0 for _, f in seen)
