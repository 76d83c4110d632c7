"""Lead engagement events, driven by each lead's latent interest.

Activity decays as a lead goes cold (rate times exp(-age / 45 days)), stops at lost_at, and
stops at converted_at except for an optional kickoff meeting and welcome email just after.
Converters usually have a demo (buyers: a viewing meeting) and a reply in the two weeks
before converting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from propensity.simulator.config import Window
from propensity.simulator.events import EventChunk
from propensity.simulator.sampling import sigmoid

COOLING_DAYS = 45.0


@dataclass(frozen=True, kw_only=True)
class LeadPopulation:
    ids: np.ndarray
    created: np.ndarray
    converted: np.ndarray  # NaN unless converted before end
    will_convert: np.ndarray  # the conversion time even when it falls after end, else NaN
    lost: np.ndarray  # NaN unless lost before end
    interest: np.ndarray
    seniority: np.ndarray  # the conversion effect of the title's seniority
    is_real_estate: np.ndarray
    is_outbound: np.ndarray
    inbound_source: np.ndarray


class _Emitter:
    def __init__(self, *, rng: np.random.Generator, pop: LeadPopulation, window: Window) -> None:
        self.rng = rng
        self.pop = pop
        self.window = window
        h = float(window.days)
        self.until = np.fmin(np.fmin(pop.converted, pop.lost), h)
        self.chunks: list[EventChunk] = []

    def emit(self, etype: str, ent: np.ndarray, t: np.ndarray, *, limit: np.ndarray) -> None:
        """Keeps events after creation and before ``limit[ent]`` (and always before end)."""
        ok = (t > self.pop.created[ent]) & (t < limit[ent]) & (t < self.window.days)
        seconds = self.window.seconds(t[ok])
        ok_ent = ent[ok]
        fine = seconds < self.window.seconds(limit[ok_ent])
        self.chunks.append(
            EventChunk(
                owner="lead",
                ids=self.pop.ids,
                owner_index=ok_ent[fine],
                type=etype,
                seconds=np.minimum(seconds[fine], self.window.end_seconds - 1),
            )
        )

    def cooling(self, rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Poisson process with rate ``rate * exp(-age / COOLING_DAYS)`` until the outcome."""
        created = self.pop.created
        span = np.clip(self.until - created, 0.0, None)
        mass = 1.0 - np.exp(-span / COOLING_DAYS)
        counts = self.rng.poisson(rate * COOLING_DAYS * mass)
        ent = np.repeat(np.arange(len(created)), counts)
        u = self.rng.random(len(ent))
        t = created[ent] - COOLING_DAYS * np.log1p(-u * mass[ent])
        return ent, t

    def once(
        self, p: float, base: np.ndarray, lo: float, hi: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """At most one event per lead with probability ``p``, at ``base + U(lo, hi)`` days."""
        n = len(base)
        chosen = np.flatnonzero((self.rng.random(n) < p) & ~np.isnan(base))
        return chosen, base[chosen] + self.rng.uniform(lo, hi, len(chosen))


def _emails(
    g: _Emitter, rng: np.random.Generator, sent_ent: np.ndarray, sent_t: np.ndarray
) -> None:
    """Emails sent at these times, and the opens, clicks and replies they draw from `rng`."""
    pop, until, u = g.pop, g.until, g.pop.interest
    g.emit("email_sent", sent_ent, sent_t, limit=until)
    opened = rng.random(len(sent_ent)) < sigmoid(-0.4 + 1.0 * u[sent_ent])
    o_ent = sent_ent[opened]
    o_t = sent_t[opened] + rng.exponential(0.3, len(o_ent))
    g.emit("email_open", o_ent, o_t, limit=until)
    clicked = rng.random(len(o_ent)) < sigmoid(-0.8 + 1.0 * u[o_ent])
    g.emit("email_click", o_ent[clicked], o_t[clicked] + rng.exponential(0.01, clicked.sum()),
           limit=until)  # fmt: skip
    replied = rng.random(len(o_ent)) < sigmoid(-2.2 + 0.8 * u[o_ent] + 0.15 * pop.seniority[o_ent])
    g.emit("email_reply", o_ent[replied], o_t[replied] + rng.exponential(0.8, replied.sum()),
           limit=until)  # fmt: skip


def simulate_lead_activity(
    *, rng: np.random.Generator, window: Window, pop: LeadPopulation
) -> list[EventChunk]:
    g = _Emitter(rng=rng, pop=pop, window=window)
    u, until = pop.interest, g.until
    n = len(u)
    re = pop.is_real_estate.astype(np.float64)
    warm = np.exp(0.8 * u)
    hot = np.exp(0.9 * u)

    # The inbound form that created the lead, a few seconds after creation.
    inbound = np.flatnonzero(pop.inbound_source)
    g.emit("form_submit", inbound, pop.created[inbound] + rng.uniform(1e-5, 7e-4, len(inbound)),
           limit=until)  # fmt: skip
    g.emit("form_submit", *g.cooling(0.02 * warm), limit=until)
    g.emit("page_view", *g.cooling(0.10 * warm), limit=until)
    g.emit("call", *g.cooling(0.04 + 0.03 * pop.is_outbound), limit=until)
    g.emit("meeting", *g.cooling((0.012 + 0.018 * re) * hot), limit=until)
    g.emit("demo", *g.cooling(0.008 * (1.0 - re) * hot), limit=until)

    sent_ent, sent_t = g.cooling(0.12 + 0.06 * pop.is_outbound)
    _emails(g, rng, sent_ent, sent_t)
    # Every lead's sales sequence starts with an email within half a day of creation. Drawn
    # from a stream of its own, so that everything else draws exactly as without it.
    first = rng.spawn(1)[0]
    _emails(g, first, np.arange(n), pop.created + first.uniform(0.001, 0.5, n))

    # The run-up to a conversion: a demo (a viewing for buyers) and a reply. Also for
    # conversions just after end, so open leads about to convert look like those that did.
    ent, t = g.once(0.7, pop.will_convert, -14.0, -1.0)
    is_re = pop.is_real_estate[ent]
    g.emit("demo", ent[~is_re], t[~is_re], limit=until)
    g.emit("meeting", ent[is_re], t[is_re], limit=until)
    g.emit("email_reply", *g.once(0.5, pop.will_convert, -7.0, -0.5), limit=until)
    # After conversion: onboarding touches; nothing ever follows lost_at.
    conv = pop.converted
    after = np.full(n, float(window.days))
    g.emit("meeting", *g.once(0.35, conv, 1.0, 10.0), limit=after)
    g.emit("email_sent", *g.once(0.5, conv, 0.01, 2.0), limit=after)
    return g.chunks
