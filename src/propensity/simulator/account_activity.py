"""B2B account behaviour: events driven by the latent health path, and weekly health scores.

Rates are per week and depend on the latent health ``x`` (centred on 1.0 for a typical
account); the equations are in docs/simulator.md, section "Accounts".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from propensity.simulator.config import Window
from propensity.simulator.events import EventChunk
from propensity.simulator.sampling import (
    bin_counts,
    binned_poisson_times,
    categorical,
    last_time_before_bin_end,
    sigmoid,
)

WEEK = 7.0
DSE_CAP = 365.0  # days-since-executive-meeting saturates: after a year it is simply "none"
SEVERITY_WEIGHTS = {"low": 0.45, "medium": 0.35, "high": 0.15, "urgent": 0.05}
SEVERITY_MEDIAN_DAYS = {"low": 5.0, "medium": 3.0, "high": 1.5, "urgent": 0.5}
TICKET_CHANNELS = {"email": 0.5, "chat": 0.3, "phone": 0.2}
HEALTH_WEIGHTS = {
    "engagement": 0.35,
    "product_adoption": 0.25,
    "support_satisfaction": 0.20,
    "executive_relationship": 0.20,
}


@dataclass(frozen=True, kw_only=True)
class Accounts:
    """What the activity model needs to know about each account (arrays of length N)."""

    ids: np.ndarray
    created: np.ndarray  # model days
    is_prospect: np.ndarray
    size_factor: np.ndarray
    adoption: np.ndarray
    engagement_tilt: np.ndarray
    x: np.ndarray  # N x K latent health per week
    week_starts: np.ndarray  # K


@dataclass(frozen=True, kw_only=True)
class Activity:
    chunks: list[EventChunk]  # not yet cut at churn
    logins: np.ndarray  # N x K weekly counts
    open_tickets: np.ndarray  # N x K, open at the end of each week
    days_since_exec: np.ndarray  # N x K, at the end of each week (capped)


def _near_renewal(created: np.ndarray, week_starts: np.ndarray) -> np.ndarray:
    """Weeks within 8 weeks before a contract anniversary, when QBRs and renewal talks happen."""
    mid = week_starts[None, :] + WEEK / 2
    to_anniversary = np.mod(created[:, None] - mid, 365.0)
    return (to_anniversary < 56.0).astype(np.float64)


class _Generator:
    """Shared state for drawing one account population's events."""

    def __init__(self, *, rng: np.random.Generator, acc: Accounts, window: Window) -> None:
        self.rng = rng
        self.acc = acc
        self.window = window
        self.n, self.k = acc.x.shape
        self.lo = np.maximum(acc.created, 0.0)
        self.hi = np.full(self.n, float(window.days))
        self.dx = acc.x - 1.0
        self.chunks: list[EventChunk] = []

    def emit(
        self,
        etype: str,
        ent: np.ndarray,
        t: np.ndarray,
        *,
        value: np.ndarray | None = None,
        **props: np.ndarray,
    ) -> None:
        self.chunks.append(
            EventChunk(
                owner="customer",
                ids=self.acc.ids,
                owner_index=ent,
                type=etype,
                seconds=self.window.seconds(t),
                value=value,
                props=props,
            )
        )

    def poisson(self, rate: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        return binned_poisson_times(
            rng=self.rng,
            rate=np.broadcast_to(rate, (self.n, self.k)),
            bin_starts=self.acc.week_starts,
            bin_days=WEEK,
            lo=self.lo,
            hi=self.hi,
        )

    def dx_at(self, ent: np.ndarray, t: np.ndarray) -> np.ndarray:
        ws = self.acc.week_starts
        w = np.clip(np.floor((t - ws[0]) / WEEK).astype(np.int64), 0, self.k - 1)
        out: np.ndarray = self.dx[ent, w]
        return out

    def channel(self, n: int) -> np.ndarray:
        return categorical(rng=self.rng, weights={"video": 0.7, "onsite": 0.3}, n=n)

    def counts(self, ent: np.ndarray, t: np.ndarray) -> np.ndarray:
        return bin_counts(
            entity=ent, times=t, n=self.n, bin_starts=self.acc.week_starts, bin_days=WEEK
        )


def simulate_activity(*, rng: np.random.Generator, acc: Accounts, window: Window) -> Activity:
    g = _Generator(rng=rng, acc=acc, window=window)
    dx = g.dx
    s = acc.size_factor[:, None]
    prospect = acc.is_prospect[:, None].astype(np.float64)

    login_ent, login_t = g.poisson(0.8 * s * np.exp(0.9 * dx))
    g.emit("login", login_ent, login_t)
    g.emit("feature_use", *g.poisson(0.35 * s * np.exp(0.7 * dx + acc.adoption[:, None])))
    g.emit("page_view", *g.poisson(0.25 * s * np.exp(0.3 * dx) + 0.4 * prospect))
    open_tickets = _tickets(g, rate=0.11 * s**0.7 * np.exp(-0.45 * dx) * (1.0 - prospect))
    days_since_exec = _executive_meetings(g)

    # CSM touches are reactive (more when the account looks weak), so they are not a clean
    # signal in either direction; truth lists them as having no direct effect.
    weak = (acc.x < 0.3).astype(np.float64)
    ent, t = g.poisson(0.06 + 0.05 * weak + 0.15 * prospect)
    g.emit("meeting", ent, t, channel=g.channel(len(ent)))
    ent, t = g.poisson(0.05 + 0.06 * weak)
    g.emit("call", ent, t, channel=np.full(len(ent), "phone", dtype=object))
    ent, t = g.poisson(0.008 + 0.25 * prospect)
    g.emit("demo", ent, t, channel=g.channel(len(ent)))
    g.emit("form_submit", *g.poisson(0.01 + 0.1 * prospect))
    _emails(g)
    return Activity(
        chunks=g.chunks,
        logins=g.counts(login_ent, login_t),
        open_tickets=open_tickets,
        days_since_exec=days_since_exec,
    )


def _tickets(g: _Generator, *, rate: np.ndarray) -> np.ndarray:
    """Tickets; returns the number open at the end of each week (N x K).

    Unhealthy accounts file more and wait longer; a backlog share stays open for weeks, which
    is what "unresolved tickets" measures at any point in time.
    """
    rng = g.rng
    ent, t = g.poisson(rate)
    n_tk = len(ent)
    d = g.dx_at(ent, t)
    severity = categorical(rng=rng, weights=SEVERITY_WEIGHTS, n=n_tk)
    channel = categorical(rng=rng, weights=TICKET_CHANNELS, n=n_tk)
    ticket_ids = np.asarray([f"TCK-{i:06d}" for i in range(1, n_tk + 1)], dtype=object)
    median = np.asarray([SEVERITY_MEDIAN_DAYS[str(v)] for v in severity]) * np.exp(-0.2 * d)
    fast = median * np.exp(0.8 * rng.standard_normal(n_tk))
    slow = 40.0 * np.exp(0.6 * rng.standard_normal(n_tk))
    backlog = rng.random(n_tk) < sigmoid(-2.2 - 0.7 * d)
    abandoned = rng.random(n_tk) < 0.03
    resolved_t = np.where(abandoned, np.inf, t + np.where(backlog, slow, fast))
    g.emit("ticket_opened", ent, t, ticket_id=ticket_ids, severity=severity, channel=channel)
    done = resolved_t < g.window.days
    g.emit(
        "ticket_resolved",
        ent[done],
        resolved_t[done],
        ticket_id=ticket_ids[done],
        severity=severity[done],
        channel=channel[done],
    )
    return np.cumsum(g.counts(ent, t) - g.counts(ent[done], resolved_t[done]), axis=1)


def _executive_meetings(g: _Generator) -> np.ndarray:
    """Executive meetings; returns days since the last one at the end of each week (N x K).

    Rare, likelier for healthy accounts, clustered in the run-up to renewals (QBRs), plus a
    kickoff for most customers signed inside the window.
    """
    acc, rng = g.acc, g.rng
    prospect = acc.is_prospect[:, None].astype(np.float64)
    near = _near_renewal(acc.created, acc.week_starts)
    rate = (0.02 * np.exp(0.8 * g.dx) + 0.12 * near * sigmoid(2.0 * (acc.x - 0.5))) * (
        1.0 - prospect
    ) + 0.05 * prospect
    ent, t = g.poisson(rate)
    kickoff = np.flatnonzero((acc.created >= 0) & ~acc.is_prospect & (rng.random(g.n) < 0.8))
    ko_t = acc.created[kickoff] + rng.uniform(1.0, 14.0, size=len(kickoff))
    keep = ko_t < g.window.days
    ent = np.concatenate([ent, kickoff[keep]])
    t = np.concatenate([t, ko_t[keep]])
    g.emit("executive_meeting", ent, t, channel=g.channel(len(ent)))
    # Before the window the last executive contact was some weeks back (longer when unhealthy);
    # new customers count from signing.
    before = -rng.exponential(60.0 * np.exp(-0.8 * g.dx[:, 0]))
    initial = np.where(acc.created >= 0, acc.created, np.maximum(before, acc.created))
    last = last_time_before_bin_end(
        entity=ent, times=t, n=g.n, bin_starts=acc.week_starts, bin_days=WEEK, initial=initial
    )
    out: np.ndarray = np.minimum((acc.week_starts + WEEK)[None, :] - last, DSE_CAP)
    return out


def _emails(g: _Generator) -> None:
    """CSM and product emails; opens, clicks and replies follow the account's health."""
    rng = g.rng
    sent_ent, sent_t = g.poisson(0.25)
    g.emit("email_sent", sent_ent, sent_t)
    d = g.dx_at(sent_ent, sent_t)
    opened = rng.random(len(sent_ent)) < sigmoid(-0.3 + 0.8 * d)
    o_ent, o_d = sent_ent[opened], d[opened]
    o_t = sent_t[opened] + rng.exponential(0.4, len(o_ent))
    g.emit("email_open", o_ent, o_t)
    clicked = rng.random(len(o_ent)) < sigmoid(-1.0 + 0.6 * o_d)
    g.emit("email_click", o_ent[clicked], o_t[clicked] + rng.exponential(0.02, clicked.sum()))
    replied = rng.random(len(o_ent)) < sigmoid(-2.8 + 0.4 * o_d)
    g.emit("email_reply", o_ent[replied], o_t[replied] + rng.exponential(1.0, replied.sum()))


def health_scores(
    *, rng: np.random.Generator, acc: Accounts, activity: Activity
) -> dict[str, np.ndarray]:
    """Weekly health (N x K each), as of the end of each week.

    Each dimension is a logistic function of the latent health plus what a CSM tool would see
    (open tickets, executive recency); overall is the documented weighted sum plus noise.
    """
    n, k = acc.x.shape
    dx = acc.x - 1.0

    def score(z: np.ndarray) -> np.ndarray:
        return np.round(100.0 * sigmoid(z + 0.2 * rng.standard_normal((n, k))), 1)

    dims = {
        "engagement": score(0.6 + 0.9 * dx + acc.engagement_tilt[:, None]),
        "product_adoption": score(0.5 + 0.7 * dx + acc.adoption[:, None]),
        "support_satisfaction": score(1.4 + 0.4 * dx - 0.5 * np.minimum(activity.open_tickets, 8)),
        "executive_relationship": score(2.0 + 0.4 * dx - 0.012 * activity.days_since_exec),
    }
    overall = sum(w * dims[name] for name, w in HEALTH_WEIGHTS.items())
    noisy = np.asarray(overall) + 2.0 * rng.standard_normal((n, k))
    dims["overall_score"] = np.round(np.clip(noisy, 0.0, 100.0), 1)
    return dims
