"""B2B accounts: firmographics, the latent health path, churn at renewal, and the frames.

Model (docs/simulator.md, "Accounts"): each account has a latent weekly health ``x`` that
mean-reverts to its own baseline, with occasional decline phases; behaviour (account_activity)
and weekly health scores follow ``x``; churn is decided mostly at contract anniversaries from
what was observable two weeks before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from propensity.simulator.account_activity import (
    WEEK,
    Accounts,
    Activity,
    health_scores,
    simulate_activity,
)
from propensity.simulator.config import SimulationConfig, Window
from propensity.simulator.events import EventChunk, keep
from propensity.simulator.names import company_names, email_locals, person_names
from propensity.simulator.sampling import categorical, sigmoid, trailing_sum

ACCOUNT_CONTRACT_COLUMNS = (
    "customer_id",
    "kind",
    "name",
    "email",
    "account_type",
    "industry",
    "employee_count",
    "plan",
    "arr",
    "health_score",
    "renewal_date",
    "created_at",
    "churned_at",
)
ACCOUNT_EXTRA_COLUMNS = ("region", "seats_purchased", "csm_owner")
ACCOUNT_COLUMNS = ACCOUNT_CONTRACT_COLUMNS + ACCOUNT_EXTRA_COLUMNS
HEALTH_COLUMNS = (
    "customer_id",
    "snapshot_date",
    "overall_score",
    "engagement",
    "product_adoption",
    "support_satisfaction",
    "executive_relationship",
)

PROSPECT_SHARE = 0.08
INDUSTRIES = {
    "Software": 0.22,
    "Financial Services": 0.12,
    "Healthcare": 0.11,
    "Retail": 0.10,
    "Manufacturing": 0.10,
    "Education": 0.07,
    "Media": 0.07,
    "Logistics": 0.08,
    "Real Estate": 0.05,
    "Professional Services": 0.08,
}
REGIONS = {"North America": 0.5, "EMEA": 0.3, "APAC": 0.15, "LATAM": 0.05}
PLANS = ("Starter", "Growth", "Business", "Enterprise")
SEAT_PRICE = {"Starter": 240.0, "Growth": 480.0, "Business": 840.0, "Enterprise": 1320.0}

# Churn decision at a renewal, on the logit scale; features as of 14 days before it.
CHURN_INTERCEPT = -3.9
CHURN_COEF = {
    "health_level": -0.08,  # per point of overall_score above 65
    "health_change_90d": -0.04,  # per point of change over the previous 13 weeks
    "open_tickets": 0.30,  # per open ticket (capped at 6)
    "days_since_executive_meeting": 0.004,  # per day (capped at 365)
    "login_trend": -0.6,  # log((logins last 4 weeks + 1) / (logins 8 weeks before / 2 + 1))
    "first_renewal": 0.35,
}
DECISION_LEAD_DAYS = 14.0
# Churn away from a renewal (bankruptcy, acquisition, escalations): weekly logit.
MIDTERM_INTERCEPT = -8.4
MIDTERM_HEALTH_COEF = -1.2


@dataclass(frozen=True, kw_only=True)
class AccountsOutput:
    accounts: pd.DataFrame
    health: pd.DataFrame
    events: list[EventChunk]


def _latent_health(
    *,
    rng: np.random.Generator,
    created: np.ndarray,
    week_starts: np.ndarray,
) -> np.ndarray:
    """Weekly latent health: Ornstein-Uhlenbeck around a baseline minus decline phases."""
    n, k = len(created), len(week_starts)
    theta, sigma = 0.12, 0.15
    baseline = rng.normal(1.0, 0.7, n)
    w = np.arange(k)[None, :].astype(np.float64)
    # A decline phase: onset (weeks, may predate the window), a ramp down, a plateau, recovery.
    onset = (rng.geometric(0.0035, n) - 27).astype(np.float64)[:, None]
    depth = rng.uniform(1.2, 2.8, n)[:, None]
    ramp = rng.uniform(3.0, 10.0, n)[:, None]
    plateau = rng.uniform(6.0, 30.0, n)[:, None]
    recover = rng.uniform(8.0, 20.0, n)[:, None]
    down = np.clip((w - onset) / ramp, 0.0, 1.0)
    up = np.clip((w - onset - ramp - plateau) / recover, 0.0, 1.0)
    drop = depth * down * (1.0 - up)
    # New customers start below their baseline while they onboard.
    since = (week_starts[None, :] - created[:, None]) / WEEK
    onboarding = np.where(since >= 0, 0.8 * np.exp(-np.clip(since, 0, None) / 6.0), 0.0)
    mean = baseline[:, None] - drop - onboarding
    start_week = np.clip(np.floor((created - week_starts[0]) / WEEK), 0, k - 1).astype(int)

    x = np.empty((n, k))
    x[:, 0] = mean[:, 0] + 0.38 * rng.standard_normal(n)
    for j in range(1, k):
        step = x[:, j - 1] + theta * (mean[:, j] - x[:, j - 1]) + sigma * rng.standard_normal(n)
        fresh = start_week == j
        step[fresh] = mean[fresh, j] + 0.3 * rng.standard_normal(int(fresh.sum()))
        x[:, j] = step
    return x


def _churn_times(
    *,
    rng: np.random.Generator,
    acc: Accounts,
    activity: Activity,
    overall: np.ndarray,
    window: Window,
) -> np.ndarray:
    """Churn time in model days (NaN = still a customer at end)."""
    n, k = acc.x.shape
    ws = acc.week_starts
    rows = np.arange(n)
    churn = np.full(n, np.inf)
    first_n = np.maximum(1, np.ceil((0.0 - acc.created) / 365.0)).astype(int)
    n_renewals = int(np.ceil(window.days / 365.0)) + 1
    for j in range(n_renewals):
        renewal = acc.created + 365.0 * (first_n + j)
        decide = renewal - DECISION_LEAD_DAYS
        # The latest weekly snapshot dated on or before the decision day.
        w = np.clip(np.floor((decide - ws[0]) / WEEK).astype(int) - 1, 0, k - 1)
        w_prev = np.clip(w - 13, 0, k - 1)
        logins_4 = trailing_sum(activity.logins, end=w, width=4)
        logins_prev = trailing_sum(activity.logins, end=w - 4, width=8)
        z = (
            CHURN_INTERCEPT
            + CHURN_COEF["health_level"] * (overall[rows, w] - 65.0)
            + CHURN_COEF["health_change_90d"] * (overall[rows, w] - overall[rows, w_prev])
            + CHURN_COEF["open_tickets"] * np.minimum(activity.open_tickets[rows, w], 6)
            + CHURN_COEF["days_since_executive_meeting"] * activity.days_since_exec[rows, w]
            + CHURN_COEF["login_trend"] * np.log((logins_4 + 1.0) / (logins_prev / 2.0 + 1.0))
            + CHURN_COEF["first_renewal"] * (first_n + j == 1)
        )
        leaves = rng.random(n) < sigmoid(z)
        when = renewal + rng.uniform(-10.0, 2.0, n)
        churn = np.where(leaves & (when >= 0.0), np.minimum(churn, when), churn)

    p_mid = sigmoid(MIDTERM_INTERCEPT + MIDTERM_HEALTH_COEF * (acc.x - 1.0))
    hit = rng.random((n, k)) < p_mid
    when = ws[None, :] + WEEK * rng.random((n, k))
    valid = hit & (when >= np.maximum(acc.created + 30.0, 0.0)[:, None])
    mid = np.where(valid, when, np.inf).min(axis=1)
    churn = np.minimum(churn, mid)
    churn[acc.is_prospect] = np.inf
    return np.where(churn < window.days, churn, np.nan)


def simulate_accounts(
    *, config: SimulationConfig, window: Window, rng: np.random.Generator
) -> AccountsOutput:
    n = config.n_accounts
    h = float(window.days)
    k = int(np.ceil(h / WEEK))
    week_starts = h - WEEK * (k - np.arange(k, dtype=np.float64))

    ids = np.asarray([f"acc_{i:05d}" for i in range(1, n + 1)], dtype=object)
    is_prospect = rng.random(n) < PROSPECT_SHARE
    employees = np.clip(np.round(np.exp(rng.normal(np.log(150.0), 1.3, n))), 5, 50000)
    tier = np.digitize(np.log10(employees) + rng.normal(0.0, 0.35, n), [1.7, 2.4, 3.1])
    plan = np.asarray(PLANS, dtype=object)[tier]
    seats = np.maximum(3, np.round(employees**0.85 * rng.uniform(0.2, 0.6, n))).astype(int)
    price = np.asarray([SEAT_PRICE[str(p)] for p in plan])
    arr = np.round(seats * price * np.exp(rng.normal(0.0, 0.1, n)), 2)
    # 60% of customers signed before the window (up to six years back), the rest inside it;
    # prospects are on a trial that started in the last four months.
    before = rng.random(n) < 0.6
    created = np.where(before, -rng.uniform(20.0, 6 * 365.0, n), rng.uniform(0.0, h - 7.0, n))
    created = np.where(is_prospect, h - rng.uniform(3.0, 120.0, n), created)

    x = _latent_health(rng=rng, created=created, week_starts=week_starts)
    acc = Accounts(
        ids=ids,
        created=created,
        is_prospect=is_prospect,
        size_factor=np.clip((seats / 40.0) ** 0.35, 0.5, 3.0),
        adoption=rng.normal(0.0, 0.4, n),
        engagement_tilt=rng.normal(0.0, 0.25, n),
        x=x,
        week_starts=week_starts,
    )
    activity = simulate_activity(rng=rng, acc=acc, window=window)
    scores = health_scores(rng=rng, acc=acc, activity=activity)
    churn = _churn_times(
        rng=rng, acc=acc, activity=activity, overall=scores["overall_score"], window=window
    )

    stop = window.seconds(np.where(np.isnan(churn), h, churn))
    stop = np.minimum(stop, window.end_seconds)
    events = [keep(c, c.seconds < stop[c.owner_index]) for c in activity.chunks]
    health, latest = _health_frame(acc=acc, scores=scores, churn=churn, window=window)

    first, last = person_names(rng=rng, n=n)
    names, domains = company_names(rng=rng, n=n)
    locals_ = email_locals(rng=rng, first=first, last=last, numbered=False)
    csm_first, csm_last = person_names(rng=rng, n=8)
    csm = np.asarray([f"{a} {b}" for a, b in zip(csm_first, csm_last, strict=True)], dtype=object)
    renewal = _renewal_day(created=created, churn=churn, h=h)
    frame = pd.DataFrame(
        {
            "customer_id": pd.Series(ids, dtype="str"),
            "kind": "account",
            "name": pd.Series(names, dtype="str"),
            "email": pd.Series(
                [f"{lp}@{d}" for lp, d in zip(locals_, domains, strict=True)], dtype="str"
            ),
            "account_type": np.where(is_prospect, "PROSPECT", "CUSTOMER"),
            "industry": pd.Series(categorical(rng=rng, weights=INDUSTRIES, n=n), dtype="str"),
            "employee_count": employees.astype(np.int64),
            "plan": pd.Series(np.where(is_prospect, "Trial", plan), dtype="str"),
            "arr": np.where(is_prospect, 0.0, arr),
            "health_score": np.where(is_prospect, np.nan, latest),
            "renewal_date": window.dates(np.where(is_prospect, np.nan, renewal)),
            "created_at": window.timestamps(created),
            "churned_at": window.timestamps(churn),
            "region": pd.Series(categorical(rng=rng, weights=REGIONS, n=n), dtype="str"),
            "seats_purchased": np.where(is_prospect, 0, seats).astype(np.int64),
            "csm_owner": pd.Series(csm[rng.integers(0, len(csm), n)], dtype="str"),
        }
    )
    return AccountsOutput(accounts=frame, health=health, events=events)


def _renewal_day(*, created: np.ndarray, churn: np.ndarray, h: float) -> np.ndarray:
    """The contract anniversary an account renews on next (or the one it did not renew on)."""
    ref = np.where(np.isnan(churn), h, churn - 10.0)
    n_years = np.maximum(1, np.ceil((ref - created) / 365.0))
    out: np.ndarray = created + 365.0 * n_years
    return out


def _health_frame(
    *, acc: Accounts, scores: dict[str, np.ndarray], churn: np.ndarray, window: Window
) -> tuple[pd.DataFrame, np.ndarray]:
    """Weekly snapshots dated at each week's end (midnight UTC), describing the week before.

    Emitted for customers from signing until churn, dated strictly before ``end``. Also returns
    the latest overall score per account (the week in which observation ends when an account
    has no snapshot yet).
    """
    n, k = acc.x.shape
    h = float(window.days)
    dates = acc.week_starts + WEEK  # midnight of the day each week ends
    stop = np.where(np.isnan(churn), h, churn)
    # Compared in whole seconds, the resolution of every timestamp the simulator writes.
    date_s = window.seconds(dates)[None, :]
    emit = (
        (date_s > window.seconds(acc.created)[:, None])
        & (date_s < window.seconds(stop)[:, None])
        & (dates[None, :] < h)
        & (dates[None, :] > 0)
        & ~acc.is_prospect[:, None]
    )
    rows, cols = np.nonzero(emit)
    frame = pd.DataFrame(
        {
            "customer_id": pd.Series(acc.ids[rows], dtype="str"),
            "snapshot_date": window.dates(dates[cols]),
        }
    )
    for name in HEALTH_COLUMNS[2:]:
        frame[name] = scores[name][rows, cols]
    # The latest emitted snapshot, else the score of the week observation ends in.
    fallback = np.clip(np.floor((stop - acc.week_starts[0]) / WEEK).astype(int), 0, k - 1)
    last_emitted = np.where(emit.any(axis=1), k - 1 - np.argmax(emit[:, ::-1], axis=1), fallback)
    latest = scores["overall_score"][np.arange(n), last_emitted]
    return frame, latest
