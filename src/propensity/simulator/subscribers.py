"""B2C streaming subscribers: monthly engagement, monthly churn hazard, events and snapshot.

Model (docs/simulator.md, "Subscribers"): a latent monthly engagement ``e`` drives watch hours,
logins and purchases; the churn hazard for a month is a logistic function of what was
observable when the month began (watch level and trend, recent payment failures, days since
the last login, devices, tenure, plan, affinity card).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from propensity.simulator.config import (
    SECONDS_PER_DAY,
    SimulationConfig,
    Window,
    utc_timestamps,
)
from propensity.simulator.events import EventChunk, keep
from propensity.simulator.names import FREE_MAIL_DOMAINS, email_locals, person_names
from propensity.simulator.sampling import (
    binned_poisson_times,
    categorical,
    last_time_before_bin_end,
    sigmoid,
    trailing_sum,
)

SUBSCRIBER_CONTRACT_COLUMNS = (
    "customer_id",
    "kind",
    "email",
    "plan",
    "watch_time_hours",
    "device_count",
    "last_login_at",
    "payment_failures",
    "tenure_months",
    "lifetime_value",
    "membership_years",
    "total_purchases",
    "affinity_card",
    "login_frequency",
    "last_purchase_at",
    "created_at",
    "churned_at",
)
SUBSCRIBER_EXTRA_COLUMNS = ("country", "age")
SUBSCRIBER_COLUMNS = SUBSCRIBER_CONTRACT_COLUMNS + SUBSCRIBER_EXTRA_COLUMNS

PERIOD = 30.0  # days; watch summaries, billing and churn decisions are monthly
MONTH = 30.44  # calendar month, for tenure in months
PLANS = {"Basic": 0.30, "Standard": 0.45, "Premium 4K": 0.25}
PLAN_PRICE = {"Basic": 8.99, "Standard": 15.49, "Premium 4K": 22.99}
PLAN_WATCH = {"Basic": 0.8, "Standard": 1.0, "Premium 4K": 1.25}
PLAN_DEVICES = {"Basic": (2, 0.35), "Standard": (3, 0.4), "Premium 4K": (5, 0.45)}
COUNTRIES = {"US": 0.45, "UK": 0.12, "CA": 0.08, "DE": 0.1, "FR": 0.08, "BR": 0.09, "IN": 0.08}

# Monthly churn hazard on the logit scale, from what was observable when the month began.
CHURN_INTERCEPT = -5.2
CHURN_COEF = {
    "watch_level": -0.35,  # log((hours in the previous 30 days + 1) / 31)
    "watch_trend": -0.5,  # log((hours last month + 1) / (mean of the two before + 1))
    "payment_failures_90d": 0.9,  # count in the previous three months
    "payment_failed_last_month": 1.2,  # involuntary churn follows a fresh failure
    "days_since_login": 0.015,  # days (capped at 90)
    "device_count": -0.18,  # per device above two
    "new_subscriber": 1.0,  # times exp(-tenure_months / 6)
    "affinity_card": -0.6,
}
PLAN_EFFECT = {"Basic": -0.15, "Standard": 0.0, "Premium 4K": 0.3}


@dataclass(frozen=True, kw_only=True)
class SubscribersOutput:
    subscribers: pd.DataFrame
    events: list[EventChunk]


def _engagement(*, rng: np.random.Generator, base: np.ndarray, n_months: int) -> np.ndarray:
    """Monthly latent engagement: OU around a baseline, minus a permanent fade for some."""
    n = len(base)
    theta, sigma = 0.3, 0.25
    m = np.arange(n_months)[None, :].astype(np.float64)
    onset = (rng.geometric(0.02, n) - 7).astype(np.float64)[:, None]
    depth = rng.uniform(0.8, 2.2, n)[:, None]
    ramp = rng.uniform(1.0, 4.0, n)[:, None]
    mean = base[:, None] - depth * np.clip((m - onset) / ramp, 0.0, 1.0)
    e = np.empty((n, n_months))
    e[:, 0] = mean[:, 0] + 0.3 * rng.standard_normal(n)
    for j in range(1, n_months):
        e[:, j] = e[:, j - 1] + theta * (mean[:, j] - e[:, j - 1]) + sigma * rng.standard_normal(n)
    return e


def simulate_subscribers(
    *, config: SimulationConfig, window: Window, rng: np.random.Generator
) -> SubscribersOutput:
    n = config.n_subscribers
    h = float(window.days)
    n_months = int(np.ceil(h / PERIOD))
    ms = h - PERIOD * (n_months - np.arange(n_months, dtype=np.float64))
    rows = np.arange(n)

    ids = np.asarray([f"usr_{i:06d}" for i in range(1, n + 1)], dtype=object)
    plan = categorical(rng=rng, weights=PLANS, n=n)
    price = np.asarray([PLAN_PRICE[str(p)] for p in plan])
    trials = np.asarray([PLAN_DEVICES[str(p)][0] for p in plan], dtype=np.int64)
    p_dev = np.asarray([PLAN_DEVICES[str(p)][1] for p in plan])
    devices = 1 + rng.binomial(trials, p_dev)
    affinity = (rng.random(n) < 0.18).astype(np.int64)
    before = rng.random(n) < 0.55
    created = np.where(before, -rng.uniform(1.0, 5 * 365.0, n), rng.uniform(0.0, h - 1.0, n))
    lo = np.maximum(created, 0.0)

    base = rng.normal(0.0, 0.55, n) + 0.15 * affinity
    e = _engagement(rng=rng, base=base, n_months=n_months)
    start = np.maximum(ms[None, :], lo[:, None])
    exposure = np.clip(np.minimum(ms[None, :] + PERIOD, h) - start, 0.0, None)
    daily = (
        np.asarray([PLAN_WATCH[str(p)] for p in plan])[:, None]
        * (devices[:, None] / 2.0) ** 0.2
        * np.exp(e)
    )
    hours = daily * exposure * rng.gamma(4.0, 0.25, (n, n_months))

    login_ent, login_t = binned_poisson_times(
        rng=rng,
        rate=1.2 * np.exp(0.8 * e) * (devices[:, None] ** 0.2),
        bin_starts=ms,
        bin_days=PERIOD,
        lo=lo,
        hi=np.full(n, h),
    )
    appetite = 0.12 * np.exp(rng.normal(0.0, 0.8, n))
    buy_ent, buy_t = binned_poisson_times(
        rng=rng,
        rate=appetite[:, None] * np.exp(0.5 * e),
        bin_starts=ms,
        bin_days=PERIOD,
        lo=lo,
        hi=np.full(n, h),
    )
    amounts = np.round(np.exp(rng.normal(np.log(6.0), 0.5, len(buy_ent))), 2)

    # Billing on the signup day-of-period; cards of a risky minority fail often.
    p_fail = np.where(rng.random(n) < 0.12, 0.2, 0.01)
    phase = np.mod(created - ms[0], PERIOD)
    bill_t = ms[None, :] + phase[:, None]
    billed = (bill_t >= created[:, None]) & (bill_t >= 0) & (bill_t < h)
    failed = billed & (rng.random((n, n_months)) < p_fail[:, None])

    # Features at the start of each month, from earlier months only.
    prev_hours = np.concatenate([np.full((n, 1), np.nan), hours[:, :-1]], axis=1)
    prev_exp = np.concatenate([np.zeros((n, 1)), exposure[:, :-1]], axis=1)
    # A period without history (before signup) counts as watching at the expected rate, so
    # new subscribers have no spurious trend.
    level = np.where(prev_exp > 1.0, prev_hours / np.maximum(prev_exp, 1.0) * PERIOD, 30.0 * daily)
    older = (_shift(level, 1) + _shift(level, 2)) / 2.0
    trend = np.nan_to_num(np.log((level + 1.0) / (older + 1.0)))
    fails = failed.astype(np.float64)
    fail_90 = np.stack(
        [trailing_sum(fails, end=np.full(n, j - 1), width=3) for j in range(n_months)], axis=1
    )
    fail_last = np.concatenate([np.zeros((n, 1)), fails[:, :-1]], axis=1)
    initial_login = np.where(created >= 0, created, -rng.exponential(7.0, n))
    last_login = last_time_before_bin_end(
        entity=login_ent,
        times=login_t,
        n=n,
        bin_starts=ms,
        bin_days=PERIOD,
        initial=initial_login,
    )
    last_login_at_start = np.concatenate([initial_login[:, None], last_login[:, :-1]], axis=1)
    dsl = np.clip(start - last_login_at_start, 0.0, 90.0)
    tenure = np.clip(start - created[:, None], 0.0, None) / MONTH
    z = (
        CHURN_INTERCEPT
        + CHURN_COEF["watch_level"] * np.log((level + 1.0) / 31.0)
        + CHURN_COEF["watch_trend"] * trend
        + CHURN_COEF["payment_failures_90d"] * fail_90
        + CHURN_COEF["payment_failed_last_month"] * fail_last
        + CHURN_COEF["days_since_login"] * dsl
        + CHURN_COEF["device_count"] * (devices[:, None] - 2.0)
        + CHURN_COEF["new_subscriber"] * np.exp(-tenure / 6.0)
        + np.asarray([PLAN_EFFECT[str(p)] for p in plan])[:, None]
        + CHURN_COEF["affinity_card"] * affinity[:, None]
    )
    hazard = 1.0 - (1.0 - sigmoid(z)) ** (exposure / PERIOD)
    leaves = (rng.random((n, n_months)) < hazard) & (exposure > 0)
    first = np.argmax(leaves, axis=1)
    churned = leaves.any(axis=1)
    churn_t = start[rows, first] + rng.random(n) * exposure[rows, first]
    # A cancellation within the first minute would make churned_at equal created_at.
    churn_t = np.maximum(churn_t, created + 1.0 / 1440.0)
    churned &= churn_t < h
    churn = np.where(churned, churn_t, np.nan)
    obs_end = np.where(churned, churn, h)

    stop = np.minimum(window.seconds(obs_end), window.end_seconds)
    chunks = [
        keep(c, c.seconds < stop[c.owner_index])
        for c in (
            _chunk(ids, "login", login_ent, login_t, window),
            _chunk(ids, "purchase", buy_ent, buy_t, window, value=amounts),
            _chunk(
                ids,
                "payment_failed",
                np.nonzero(failed)[0],
                bill_t[failed],
                window,
                value=price[np.nonzero(failed)[0]],
            ),
        )
    ]
    watch, watch_30 = _watch(
        window=window,
        ids=ids,
        hours=hours,
        start=start,
        exposure=exposure,
        obs_end=obs_end,
        stop=stop,
    )
    chunks.insert(0, watch)

    frame = _snapshot(
        rng=rng,
        window=window,
        ids=ids,
        chunks=chunks,
        plan=plan,
        price=price,
        devices=devices,
        affinity=affinity,
        created=created,
        churn=churn,
        obs_end=obs_end,
        watch_30=watch_30,
        appetite=appetite * np.exp(0.5 * base),
        p_fail=p_fail,
        initial_login=initial_login,
    )
    return SubscribersOutput(subscribers=frame, events=chunks)


def _shift(a: np.ndarray, periods: int) -> np.ndarray:
    """Columns moved right by ``periods``; the first ones become NaN."""
    return np.concatenate([np.full((a.shape[0], periods), np.nan), a[:, :-periods]], axis=1)


def _chunk(
    ids: np.ndarray,
    etype: str,
    ent: np.ndarray,
    t: np.ndarray,
    window: Window,
    *,
    value: np.ndarray | None = None,
) -> EventChunk:
    return EventChunk(
        owner="customer",
        ids=ids,
        owner_index=ent,
        type=etype,
        seconds=window.seconds(t),
        value=value,
    )


def _watch(
    *,
    window: Window,
    ids: np.ndarray,
    hours: np.ndarray,
    start: np.ndarray,
    exposure: np.ndarray,
    obs_end: np.ndarray,
    stop: np.ndarray,
) -> tuple[EventChunk, np.ndarray]:
    """One ``watch`` summary per subscriber and 30-day period, stamped one second before the
    period closes (or before churn), plus the hours in the last 30 days of observation.

    Watching is uniform within a period, so hours are prorated when churn cuts a period short
    and when the 30-day look-back straddles two periods.
    """
    period_end = start + exposure
    cut_end = np.minimum(period_end, obs_end[:, None])
    kept = np.clip(cut_end - start, 0.0, None)
    frac = np.divide(kept, exposure, out=np.zeros_like(kept), where=exposure > 0)
    value = np.round(hours * frac, 2)
    emitted = kept > 1.0 / 24.0
    rows, cols = np.nonzero(emitted)
    end_s = np.minimum(window.seconds(cut_end[rows, cols]), stop[rows])
    chunk = EventChunk(
        owner="customer",
        ids=ids,
        owner_index=rows,
        type="watch",
        seconds=end_s - 1,
        value=value[rows, cols],
    )
    look = np.clip(cut_end - np.maximum(start, (obs_end - 30.0)[:, None]), 0.0, None)
    share = np.divide(look, kept, out=np.zeros_like(look), where=kept > 0)
    watch_30 = np.round((np.where(emitted, value, 0.0) * share).sum(axis=1), 1)
    return chunk, watch_30


def _snapshot(
    *,
    rng: np.random.Generator,
    window: Window,
    ids: np.ndarray,
    chunks: list[EventChunk],
    plan: np.ndarray,
    price: np.ndarray,
    devices: np.ndarray,
    affinity: np.ndarray,
    created: np.ndarray,
    churn: np.ndarray,
    obs_end: np.ndarray,
    watch_30: np.ndarray,
    appetite: np.ndarray,
    p_fail: np.ndarray,
    initial_login: np.ndarray,
) -> pd.DataFrame:
    """The subscriber row as of ``end`` (or churn), computed from the events where it can be.

    Counts "to date" add what happened before the window (drawn from the same rates) to the
    events inside it, so they are never below the event counts.
    """
    n = len(ids)
    by_type = {c.type: c for c in chunks}
    obs_s = np.minimum(window.seconds(obs_end), window.end_seconds)

    logins = by_type["login"]
    recent = logins.seconds >= obs_s[logins.owner_index] - 28 * SECONDS_PER_DAY
    login_frequency = np.bincount(logins.owner_index[recent], minlength=n) / 4.0
    last_login = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last_login, logins.owner_index, logins.seconds)
    # Subscribers without a login in the window last signed in before it.
    last_login = np.maximum(last_login, window.seconds(np.maximum(initial_login, created)))

    buys = by_type["purchase"]
    assert buys.value is not None
    pre_months = np.clip(-created, 0.0, None) / MONTH
    pre_buys = rng.poisson(pre_months * appetite)
    pre_spend = np.round(pre_buys * 6.0 * np.exp(0.125), 2)
    pre_last = np.maximum(-rng.exponential(MONTH / np.maximum(appetite, 1e-3)), created)
    last_buy = np.where(pre_buys > 0, window.seconds(pre_last), np.iinfo(np.int64).min)
    np.maximum.at(last_buy, buys.owner_index, buys.seconds)
    spend = np.bincount(buys.owner_index, weights=buys.value, minlength=n) + pre_spend
    n_buys = np.bincount(buys.owner_index, minlength=n) + pre_buys
    never_bought = last_buy == np.iinfo(np.int64).min

    fails = np.bincount(by_type["payment_failed"].owner_index, minlength=n)
    fails = fails + rng.poisson(pre_months * p_fail)
    tenure_days = obs_end - created
    first, last = person_names(rng=rng, n=n)
    locals_ = email_locals(rng=rng, first=first, last=last, numbered=True)
    domains = np.asarray(FREE_MAIL_DOMAINS, dtype=object)[rng.integers(0, 6, n)]
    return pd.DataFrame(
        {
            "customer_id": pd.Series(ids, dtype="str"),
            "kind": "subscriber",
            "email": pd.Series(
                [f"{lp}@{d}" for lp, d in zip(locals_, domains, strict=True)], dtype="str"
            ),
            "plan": pd.Series(plan, dtype="str"),
            "watch_time_hours": watch_30,
            "device_count": devices.astype(np.int64),
            "last_login_at": utc_timestamps(last_login),
            "payment_failures": fails.astype(np.int64),
            "tenure_months": np.floor(tenure_days / MONTH).astype(np.int64),
            "lifetime_value": np.round(price * (np.floor(tenure_days / MONTH) + 1) + spend, 2),
            "membership_years": np.round(tenure_days / 365.25, 2),
            "total_purchases": n_buys.astype(np.int64),
            "affinity_card": affinity.astype(np.int64),
            "login_frequency": login_frequency,
            "last_purchase_at": utc_timestamps(
                np.where(never_bought, 0, last_buy), missing=never_bought
            ),
            "created_at": window.timestamps(created),
            "churned_at": window.timestamps(churn),
            "country": pd.Series(categorical(rng=rng, weights=COUNTRIES, n=n), dtype="str"),
            "age": rng.integers(18, 76, n).astype(np.int64),
        }
    )
