"""Closed real-estate sales and the housing-market model they (and buyer leads) share.

Model (docs/simulator.md, "Deals"): a home's value is its city's price index (trend plus a
spring/summer season) times a property-type multiplier times its size; the list price sits
near the value (a little above in cold markets, below in hot ones); overpriced homes sit longer
and sell under asking, and hot markets sell fast and above asking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from propensity.simulator.config import SimulationConfig, Window
from propensity.simulator.sampling import categorical

DEAL_CONTRACT_COLUMNS = (
    "deal_id",
    "property_type",
    "location",
    "list_price",
    "sale_price",
    "listed_at",
    "sold_at",
)
DEAL_EXTRA_COLUMNS = ("square_feet", "bedrooms")
DEAL_COLUMNS = DEAL_CONTRACT_COLUMNS + DEAL_EXTRA_COLUMNS


@dataclass(frozen=True)
class City:
    weight: float  # share of sales and of buyer leads
    median_price: float  # single-family, typical size, at the end of the window
    annual_growth: float  # log-price trend per year
    demand: float  # -1 (cold) .. 1 (hot): speed of sale and premium over asking


CITIES = {
    "seattle": City(0.15, 820_000.0, 0.04, 0.5),
    "austin": City(0.14, 540_000.0, -0.03, -0.3),
    "denver": City(0.12, 600_000.0, 0.01, 0.0),
    "phoenix": City(0.12, 450_000.0, 0.02, 0.2),
    "miami": City(0.12, 620_000.0, 0.07, 0.8),
    "boston": City(0.12, 780_000.0, 0.03, 0.4),
    "atlanta": City(0.12, 410_000.0, 0.05, 0.3),
    "portland": City(0.11, 530_000.0, -0.01, -0.4),
}


@dataclass(frozen=True)
class PropertyType:
    weight: float
    price_factor: float
    typical_sqft: float


PROPERTY_TYPES = {
    "single-family": PropertyType(0.50, 1.0, 2000.0),
    "condo": PropertyType(0.25, 0.62, 1000.0),
    "townhouse": PropertyType(0.15, 0.78, 1500.0),
    "multi-family": PropertyType(0.10, 1.35, 3000.0),
}
SEASON_AMPLITUDE = 0.025


def market_price(
    *, window: Window, location: np.ndarray, property_type: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """Typical-size value of a home at model time ``t`` (days since the window start)."""
    base = np.asarray([CITIES[str(c)].median_price for c in location])
    growth = np.asarray([CITIES[str(c)].annual_growth for c in location])
    factor = np.asarray([PROPERTY_TYPES[str(p)].price_factor for p in property_type])
    start = np.datetime64(window.end_date, "D") - np.int64(window.days)
    day = start + np.floor(t).astype(np.int64)
    doy = (day - day.astype("datetime64[Y]")).astype(np.int64)
    # Prices peak in early summer.
    season = 1.0 + SEASON_AMPLITUDE * np.sin(2.0 * np.pi * (doy - 80) / 365.25)
    out: np.ndarray = base * factor * np.exp(growth * (t - window.days) / 365.25) * season
    return out


def simulate_deals(
    *, config: SimulationConfig, window: Window, rng: np.random.Generator
) -> pd.DataFrame:
    n = config.n_deals
    h = float(window.days)
    location = categorical(rng=rng, weights={c: v.weight for c, v in CITIES.items()}, n=n)
    ptype = categorical(rng=rng, weights={p: v.weight for p, v in PROPERTY_TYPES.items()}, n=n)
    sold = np.sort(rng.uniform(0.0, h, n))
    typical = np.asarray([PROPERTY_TYPES[str(p)].typical_sqft for p in ptype])
    sqft = np.round(typical * np.exp(rng.normal(0.0, 0.3, n)), -1)
    bedrooms = np.clip(np.round(sqft / 550.0 + rng.normal(0.0, 0.6, n)), 1, 8).astype(np.int64)
    demand = np.asarray([CITIES[str(c)].demand for c in location])

    # Priced at the market when listed; the listing date depends on days on market, which
    # depends on the price, so use the sale date's market first (a month's drift is noise).
    value = (
        market_price(window=window, location=location, property_type=ptype, t=sold)
        * (sqft / typical) ** 0.8
        * np.exp(rng.normal(0.0, 0.12, n))
    )
    ask = value * np.exp(rng.normal(0.02 - 0.03 * demand, 0.04, n))
    over = np.clip(np.log(ask / value), -0.2, 0.3)
    mean_dom = 30.0 * np.exp(-0.5 * demand) * np.exp(5.0 * over)
    dom = 1.0 + rng.gamma(2.0, mean_dom / 2.0)
    listed = sold - dom
    sale = ask * np.exp(-0.6 * over + rng.normal(0.01 * demand - 0.006, 0.015, n))
    return pd.DataFrame(
        {
            "deal_id": pd.Series([f"deal_{i:05d}" for i in range(1, n + 1)], dtype="str"),
            "property_type": pd.Series(ptype, dtype="str"),
            "location": pd.Series(location, dtype="str"),
            "list_price": np.round(ask, -3),
            "sale_price": np.round(sale / 500.0) * 500.0,
            "listed_at": window.timestamps(listed),
            "sold_at": window.timestamps(sold),
            "square_feet": sqft.astype(np.int64),
            "bedrooms": bedrooms,
        }
    )
