"""Simulation settings and the time window every generator shares."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SECONDS_PER_DAY = 86_400


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True, kw_only=True)
class SimulationConfig:
    """What to simulate. Equal configs give identical data (see docs/simulator.md)."""

    seed: int = 42
    end: dt.date = field(default_factory=_utc_today)
    history_days: int = 730
    n_accounts: int = 2000
    n_subscribers: int = 20000
    n_leads: int = 10000
    n_deals: int = 3000

    def __post_init__(self) -> None:
        # A frozen dataclass gives no other hook, and bad sizes must fail here with a message
        # that names the field rather than deep inside numpy.
        if isinstance(self.end, dt.datetime) or not isinstance(self.end, dt.date):
            raise ValueError(f"end must be a datetime.date (not a datetime), got {self.end!r}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        if self.history_days < 90:
            raise ValueError(f"history_days must be >= 90, got {self.history_days}")
        for name in ("n_accounts", "n_subscribers", "n_leads", "n_deals"):
            value = getattr(self, name)
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")


@dataclass(frozen=True, kw_only=True)
class Window:
    """The simulated interval [start, end) in UTC.

    Generators work in float days since ``start`` ("model time"); conversion to timestamps
    floors to whole seconds so "strictly before end" is an exact integer comparison.
    """

    end_date: dt.date
    days: int

    @property
    def end_seconds(self) -> int:
        midnight = dt.datetime.combine(self.end_date, dt.time(), tzinfo=dt.UTC)
        return int(midnight.timestamp())

    @property
    def start_seconds(self) -> int:
        return self.end_seconds - self.days * SECONDS_PER_DAY

    def seconds(self, days: np.ndarray) -> np.ndarray:
        """Model time (days since start) to integer epoch seconds."""
        whole = np.floor(np.asarray(days, dtype=np.float64) * SECONDS_PER_DAY).astype(np.int64)
        out: np.ndarray = self.start_seconds + whole
        return out

    def timestamps(self, days: np.ndarray) -> pd.Series:
        """Model time to ``datetime64[us, UTC]``; NaN becomes NaT."""
        arr = np.asarray(days, dtype=np.float64)
        missing = np.isnan(arr)
        return utc_timestamps(self.seconds(np.where(missing, 0.0, arr)), missing=missing)

    def dates(self, days: np.ndarray) -> pd.Series:
        """Model time to calendar dates: naive ``datetime64[us]`` at midnight; NaN → NaT."""
        arr = np.asarray(days, dtype=np.float64)
        missing = np.isnan(arr)
        whole = np.floor(np.where(missing, 0.0, arr)).astype(np.int64)
        values = (np.datetime64(self.end_date, "D") - np.int64(self.days) + whole).astype(
            "datetime64[us]"
        )
        values[missing] = np.datetime64("NaT")
        return pd.Series(values)


def utc_timestamps(seconds: np.ndarray, *, missing: np.ndarray | None = None) -> pd.Series:
    """Epoch seconds to ``datetime64[us, UTC]``; where ``missing`` holds, NaT."""
    values = np.asarray(seconds, dtype=np.int64).astype("datetime64[s]").astype("datetime64[us]")
    if missing is not None:
        values[missing] = np.datetime64("NaT")
    return pd.Series(values).dt.tz_localize("UTC")


def window_for(config: SimulationConfig) -> Window:
    return Window(end_date=config.end, days=config.history_days)


def rng_for(config: SimulationConfig, stage: int) -> np.random.Generator:
    """An independent stream per stage, so resizing one frame leaves the others unchanged."""
    return np.random.default_rng(np.random.SeedSequence([config.seed, stage]))
