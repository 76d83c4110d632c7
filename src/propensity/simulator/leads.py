"""Leads in three scoring configurations: attributes, eventual outcome and timing.

Model (docs/simulator.md, "Leads"): each lead has a latent interest ``u``; whether it
eventually converts is a logistic function of firmographics, source, budget fit, timeline and
``u``; the engagement events (lead_activity) are driven by the same ``u``, so they reveal it
before the outcome. Conversion takes longer for distant timelines and shorter for engaged
leads; non-converters are mostly closed lost after a while, the rest stay open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from propensity.simulator.config import SimulationConfig, Window
from propensity.simulator.deals import CITIES, PROPERTY_TYPES, market_price
from propensity.simulator.events import EventChunk
from propensity.simulator.lead_activity import LeadPopulation, simulate_lead_activity
from propensity.simulator.names import (
    FREE_MAIL_DOMAINS,
    company_names,
    email_locals,
    person_names,
    phones,
)
from propensity.simulator.sampling import categorical, sigmoid

LEAD_CONTRACT_COLUMNS = (
    "lead_id",
    "config",
    "email",
    "name",
    "company",
    "title",
    "phone",
    "source",
    "created_at",
    "converted_at",
    "lost_at",
    "deal_value",
    "budget",
    "timeline",
    "property_type",
    "location",
)
LEAD_EXTRA_COLUMNS = ("company_size",)
LEAD_COLUMNS = LEAD_CONTRACT_COLUMNS + LEAD_EXTRA_COLUMNS

SENIORITY_LEVELS = ("C-level", "VP", "Director", "Manager", "Individual contributor", "")
SENIORITY_EFFECT = {
    "C-level": 1.0,
    "VP": 0.8,
    "Director": 0.55,
    "Manager": 0.3,
    "Individual contributor": 0.0,
    "": -0.1,
}
TITLES = {
    "C-level": ("CEO", "CTO", "CFO", "COO", "Chief Marketing Officer", "Chief Revenue Officer",
                "Founder & CEO", "Chief Information Officer"),
    "VP": ("VP of Sales", "VP Engineering", "Vice President, Marketing", "VP Operations",
           "VP of Customer Success", "Vice President of Finance"),
    "Director": ("Director of Operations", "Head of Growth", "IT Director", "Director of Sales",
                 "Head of Data", "Marketing Director"),
    "Manager": ("Marketing Manager", "Engineering Manager", "Sales Manager", "Product Manager",
                "Operations Manager", "Team Lead, Support"),
    "Individual contributor": ("Software Engineer", "Data Analyst", "Account Executive",
                               "Marketing Specialist", "Designer", "Consultant", "Accountant"),
}  # fmt: skip
SOURCE_EFFECT = {
    "referral": 0.9,
    "event": 0.6,
    "web": 0.0,
    "paid_search": -0.2,
    "social": -0.4,
    "outbound": -0.5,
}
TIMELINES = ("1-3 months", "3-6 months", "6-12 months", "1+ years")
TIMELINE_EFFECT = {"1-3 months": 0.7, "3-6 months": 0.3, "6-12 months": -0.2, "1+ years": -0.8}
TIMELINE_DURATION = {"1-3 months": 0.55, "3-6 months": 1.0, "6-12 months": 1.7, "1+ years": 2.8}
COEF = {
    "corporate_email": 0.8,
    "phone": 0.25,
    "interest": 1.0,  # latent u, seen through engagement events
    "budget_fit": 1.2,  # times clip(log(budget / reference), -1, 0.3)
}
TIME_INTEREST_COEF = -0.35  # log-duration per unit of u


@dataclass(frozen=True, kw_only=True)
class LeadConfig:
    share: float
    intercept: float
    free_mail: float
    company_missing: float
    phone: float
    close_median_days: float
    value_median: float
    sources: dict[str, float]
    seniority: dict[str, float]
    timelines: dict[str, float]


CONFIGS = {
    "Inbound SaaS": LeadConfig(
        share=0.5,
        intercept=-2.55,
        free_mail=0.35,
        company_missing=0.12,
        phone=0.55,
        close_median_days=28.0,
        value_median=12_000.0,
        sources={"web": .35, "paid_search": .25, "referral": .12, "event": .08, "social": .12,
                 "outbound": .08},
        seniority={"C-level": .06, "VP": .08, "Director": .14, "Manager": .25,
                   "Individual contributor": .35, "": .12},
        timelines={"1-3 months": .3, "3-6 months": .35, "6-12 months": .22, "1+ years": .13},
    ),
    "Outbound Enterprise": LeadConfig(
        share=0.25,
        intercept=-3.05,
        free_mail=0.06,
        company_missing=0.0,
        phone=0.8,
        close_median_days=75.0,
        value_median=90_000.0,
        sources={"outbound": .55, "event": .2, "referral": .1, "web": .1, "paid_search": .05},
        seniority={"C-level": .12, "VP": .2, "Director": .28, "Manager": .25,
                   "Individual contributor": .12, "": .03},
        timelines={"1-3 months": .15, "3-6 months": .35, "6-12 months": .32, "1+ years": .18},
    ),
    "Real Estate Buyers": LeadConfig(
        share=0.25,
        intercept=-2.35,
        free_mail=0.85,
        company_missing=0.9,
        phone=0.85,
        close_median_days=45.0,
        value_median=0.0,  # the home's price, from the market model
        sources={"web": .3, "referral": .25, "paid_search": .2, "event": .1, "social": .15},
        seniority={"C-level": .03, "VP": .03, "Director": .04, "Manager": .05,
                   "Individual contributor": .05, "": .8},
        timelines={"1-3 months": .25, "3-6 months": .35, "6-12 months": .25, "1+ years": .15},
    ),
}  # fmt: skip
REAL_ESTATE = "Real Estate Buyers"
LOST_SHARE = 0.7  # of eventual non-converters; the rest are never closed
LOST_MEDIAN_DAYS = 40.0

_VP = re.compile(r"\b(vp|vice president|svp|evp)\b")
_CLEVEL = re.compile(r"\b(chief|ceo|cto|cfo|coo|cmo|cro|cio|founder|president|owner)\b")
_DIRECTOR = re.compile(r"\b(director|head of|head)\b")
_MANAGER = re.compile(r"\b(manager|lead|supervisor)\b")


def seniority_of_title(title: str | None) -> str:
    """Seniority level of a job title; the rule the generator's titles follow.

    Returns one of ``SENIORITY_LEVELS`` ("" for a missing or empty title).
    """
    if not isinstance(title, str) or not title.strip():
        return ""
    t = title.lower()
    for pattern, level in (
        (_VP, "VP"),
        (_CLEVEL, "C-level"),
        (_DIRECTOR, "Director"),
        (_MANAGER, "Manager"),
    ):
        if pattern.search(t):
            return level
    return "Individual contributor"


@dataclass(frozen=True, kw_only=True)
class LeadsOutput:
    leads: pd.DataFrame
    events: list[EventChunk]


def simulate_leads(
    *, config: SimulationConfig, window: Window, rng: np.random.Generator
) -> LeadsOutput:
    n = config.n_leads
    h = float(window.days)
    names = list(CONFIGS)
    cfg_idx = rng.choice(len(names), size=n, p=[CONFIGS[c].share for c in names])
    cfgs = [CONFIGS[names[i]] for i in cfg_idx]
    is_re = cfg_idx == names.index(REAL_ESTATE)
    # Lead flow grows over the window (more recent leads), as a growing business's would.
    created = np.minimum(h * rng.random(n) ** 0.8, h - 0.5)

    def per_lead(weights: str) -> np.ndarray:
        out = np.empty(n, dtype=object)
        for i, name in enumerate(names):
            sel = cfg_idx == i
            out[sel] = categorical(rng=rng, weights=getattr(CONFIGS[name], weights), n=sel.sum())
        return out

    source = per_lead("sources")
    level = per_lead("seniority")
    timeline = per_lead("timelines")
    free = rng.random(n) < np.asarray([c.free_mail for c in cfgs])
    has_phone = rng.random(n) < np.asarray([c.phone for c in cfgs])
    no_company = rng.random(n) < np.asarray([c.company_missing for c in cfgs])
    no_company |= free & (rng.random(n) < 0.5)
    title = np.asarray(
        [None if lv == "" else TITLES[str(lv)][rng.integers(len(TITLES[str(lv)]))] for lv in level],
        dtype=object,
    )
    company_size = np.where(
        no_company | is_re,
        np.nan,
        np.maximum(2.0, np.round(np.exp(rng.normal(np.log(120.0), 1.4, n)))),
    )

    location = categorical(rng=rng, weights={c: v.weight for c, v in CITIES.items()}, n=n)
    location[~is_re & (rng.random(n) < 0.3)] = None
    ptype = categorical(rng=rng, weights={p: v.weight for p, v in PROPERTY_TYPES.items()}, n=n)
    ptype[~is_re] = None
    # Budget fit: against the expected contract value (B2B) or the local market price of the
    # wanted home (buyers).
    size_term = np.where(np.isnan(company_size), 1.0, (np.nan_to_num(company_size) / 120) ** 0.3)
    b2b_value = np.asarray([c.value_median for c in cfgs]) * size_term
    b2b_value *= np.exp(rng.normal(0.0, 0.4, n))
    home = np.ones(n)
    if is_re.any():
        home[is_re] = market_price(
            window=window, location=location[is_re], property_type=ptype[is_re], t=created[is_re]
        )
    reference = np.where(is_re, home, b2b_value)
    budget = reference * np.exp(rng.normal(np.where(is_re, 0.0, 0.1), np.where(is_re, 0.3, 0.5)))
    budget = np.where(is_re, np.round(budget, -4), np.round(budget, -3))
    budget = np.maximum(budget, 1000.0)
    fit = np.clip(np.log(budget / reference), -1.0, 0.3)

    interest = rng.standard_normal(n)
    z = (
        np.asarray([c.intercept for c in cfgs])
        + np.asarray([SENIORITY_EFFECT[str(v)] for v in level])
        + COEF["corporate_email"] * ~free
        + np.asarray([SOURCE_EFFECT[str(s)] for s in source])
        + COEF["interest"] * interest
        + COEF["budget_fit"] * fit
        + np.asarray([TIMELINE_EFFECT[str(t)] for t in timeline])
        + COEF["phone"] * has_phone
    )
    converts = rng.random(n) < sigmoid(z)
    duration = (
        np.asarray([c.close_median_days for c in cfgs])
        * np.asarray([TIMELINE_DURATION[str(t)] for t in timeline])
        * np.exp(TIME_INTEREST_COEF * interest + 0.45 * rng.standard_normal(n))
    )
    will_convert = np.where(converts, created + np.maximum(duration, 0.5), np.nan)
    closes_lost = ~converts & (rng.random(n) < LOST_SHARE)
    lost_t = created + LOST_MEDIAN_DAYS * np.exp(0.7 * rng.standard_normal(n))
    lost = np.where(closes_lost, lost_t, np.nan)
    # Outcomes after end are unknown yet: those leads are open (censored).
    converted = np.where(will_convert < h, will_convert, np.nan)
    lost = np.where(lost < h, lost, np.nan)

    ids = np.asarray([f"lead_{i:05d}" for i in range(1, n + 1)], dtype=object)
    events = simulate_lead_activity(
        rng=rng,
        window=window,
        pop=LeadPopulation(
            ids=ids,
            created=created,
            converted=converted,
            will_convert=will_convert,
            lost=lost,
            interest=interest,
            seniority=np.asarray([SENIORITY_EFFECT[str(v)] for v in level]),
            is_real_estate=is_re,
            is_outbound=cfg_idx == names.index("Outbound Enterprise"),
            inbound_source=np.isin(source, ["web", "paid_search", "social"]),
        ),
    )

    expected_value = np.where(is_re, budget * rng.uniform(0.85, 1.0, n), b2b_value)
    realised = expected_value * np.exp(rng.normal(0.0, 0.12, n))
    deal_value = np.round(np.where(np.isnan(converted), expected_value, realised), 0)
    first, last = person_names(rng=rng, n=n)
    companies, domains = company_names(rng=rng, n=n)
    locals_ = email_locals(rng=rng, first=first, last=last, numbered=False)
    free_domain = np.asarray(FREE_MAIL_DOMAINS, dtype=object)[rng.integers(0, 6, n)]
    free_locals = email_locals(rng=rng, first=first, last=last, numbered=True)
    email = [
        f"{fl}@{fd}" if f else f"{lp}@{d}"
        for f, fl, fd, lp, d in zip(free, free_locals, free_domain, locals_, domains, strict=True)
    ]
    phone_numbers = phones(rng=rng, n=n)
    frame = pd.DataFrame(
        {
            "lead_id": pd.Series(ids, dtype="str"),
            "config": pd.Series(np.asarray(names, dtype=object)[cfg_idx], dtype="str"),
            "email": pd.Series(email, dtype="str"),
            "name": pd.Series([f"{a} {b}" for a, b in zip(first, last, strict=True)], dtype="str"),
            "company": pd.Series(_blank(companies, no_company), dtype="str"),
            "title": pd.Series(title, dtype="str"),
            "phone": pd.Series(_blank(phone_numbers, ~has_phone), dtype="str"),
            "source": pd.Series(source, dtype="str"),
            "created_at": window.timestamps(created),
            "converted_at": window.timestamps(converted),
            "lost_at": window.timestamps(lost),
            "deal_value": deal_value,
            "budget": budget,
            "timeline": pd.Series(timeline, dtype="str"),
            "property_type": pd.Series(ptype, dtype="str"),
            "location": pd.Series(location, dtype="str"),
            "company_size": company_size,
        }
    )
    return LeadsOutput(leads=frame, events=events)


def _blank(values: list[str], missing: np.ndarray) -> np.ndarray:
    out = np.asarray(values, dtype=object)
    out[missing] = None
    return out
