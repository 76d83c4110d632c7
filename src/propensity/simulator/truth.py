"""The true generative effects, in terms a point-in-time feature builder can compute.

``direct`` effects enter the generator's equations with the stated weight (on the logit scale
for churn and conversion, on the log-duration scale for time to close); indirect ones are
observable correlates of a latent driver (for example email clicks reveal a lead's interest).
Signs are for the outcome: +1 raises churn / conversion probability / days to close.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from propensity.simulator import accounts as acc
from propensity.simulator import leads as ld
from propensity.simulator import subscribers as sub
from propensity.simulator.deals import CITIES, PROPERTY_TYPES
from propensity.simulator.lead_activity import COOLING_DAYS
from propensity.simulator.names import FREE_MAIL_DOMAINS


@dataclass(frozen=True, kw_only=True)
class Effect:
    feature: str  # a stable key for tests and feature builders
    sign: int
    direct: bool
    computation: str  # how to compute it at snapshot time t from the frames
    weight: float | Mapping[str, float] | None = None


@dataclass(frozen=True, kw_only=True)
class OutcomeTruth:
    outcome: str
    population: str
    label: str
    effects: tuple[Effect, ...]
    no_effect: tuple[str, ...] = ()

    def effect(self, feature: str) -> Effect:
        for e in self.effects:
            if e.feature == feature:
                return e
        raise KeyError(f"{self.outcome} has no effect named {feature!r}")

    def signs(self) -> dict[str, int]:
        return {e.feature: e.sign for e in self.effects}


@dataclass(frozen=True, kw_only=True)
class Truth:
    account_churn: OutcomeTruth
    subscriber_churn: OutcomeTruth
    lead_conversion: OutcomeTruth
    time_to_close: OutcomeTruth
    market: Mapping[str, Any]
    rates: Mapping[str, float] = field(default_factory=dict)

    def outcomes(self) -> dict[str, OutcomeTruth]:
        return {
            o.outcome: o
            for o in (
                self.account_churn,
                self.subscriber_churn,
                self.lead_conversion,
                self.time_to_close,
            )
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: plain dicts, lists, strings and numbers."""
        out: dict[str, Any] = {
            name: asdict(o) | {"effects": [asdict(e) for e in o.effects]}
            for name, o in self.outcomes().items()
        }
        out["market"] = dict(self.market)
        out["rates"] = dict(self.rates)
        for o in out.values():
            if isinstance(o, dict) and "no_effect" in o:
                o["no_effect"] = list(o["no_effect"])
        return out


def _d(feature: str, sign: int, computation: str, weight: Any = None) -> Effect:
    return Effect(feature=feature, sign=sign, direct=True, computation=computation, weight=weight)


def _i(feature: str, sign: int, computation: str) -> Effect:
    return Effect(feature=feature, sign=sign, direct=False, computation=computation)


C = acc.CHURN_COEF
ACCOUNT_CHURN = OutcomeTruth(
    outcome="account_churn",
    population="accounts with account_type CUSTOMER (prospects never churn)",
    label="churned_at falls in (t, t + horizon]; churn happens mostly from 10 days before to "
    "2 days after a contract anniversary of created_at, decided from data 14 days before it",
    effects=(
        _d(
            "health_overall_score",
            -1,
            "overall_score of the latest health snapshot dated <= t",
            C["health_level"],
        ),
        _d(
            "health_change_90d",
            -1,
            "that overall_score minus the one 13 weeks earlier",
            C["health_change_90d"],
        ),
        _d(
            "open_tickets",
            +1,
            "ticket_opened before t without a ticket_resolved (same "
            "ticket_id) before t; capped at 6",
            C["open_tickets"],
        ),
        _d(
            "days_since_executive_meeting",
            +1,
            "days from the last executive_meeting before t "
            "to t (or from created_at), capped at 365",
            C["days_since_executive_meeting"],
        ),
        _d(
            "login_trend",
            -1,
            "log((logins in the 28 days before t + 1) / (logins in the 56 days "
            "before those / 2 + 1))",
            C["login_trend"],
        ),
        _d(
            "days_to_renewal",
            -1,
            "days from t to the next anniversary of created_at; the "
            "renewal decision is where nearly all churn happens",
        ),
        _d(
            "first_renewal",
            +1,
            "the next anniversary is the first (tenure under a year)",
            C["first_renewal"],
        ),
        _i(
            "health_dimensions",
            -1,
            "engagement, product_adoption, support_satisfaction, "
            "executive_relationship of the latest snapshot (all follow the latent health)",
        ),
        _i(
            "feature_use_count",
            -1,
            "feature_use events in the 28 days before t (scales with seats too)",
        ),
        _i("email_engagement", -1, "email_open / email_click per email_sent, last 90 days"),
        _i("ticket_opened_count", +1, "ticket_opened events in the 90 days before t"),
        _i(
            "csm_touches",
            +1,
            "meeting and call events, last 90 days: reactive, CSMs reach out "
            "to weak accounts, so they mark risk without lowering it",
        ),
    ),
    no_effect=(
        "industry",
        "region",
        "plan",
        "arr",
        "employee_count",
        "seats_purchased",
        "csm_owner",
        "name",
        "email",
    ),
)

S = sub.CHURN_COEF
SUBSCRIBER_CHURN = OutcomeTruth(
    outcome="subscriber_churn",
    population="all subscribers",
    label="churned_at falls in (t, t + horizon]; a monthly hazard from the state when each "
    "30-day period (aligned to end) began",
    effects=(
        _d(
            "watch_hours_30d",
            -1,
            "sum of watch values stamped in the 30 days before t; enters as log((hours + 1) / 31)",
            S["watch_level"],
        ),
        _d(
            "watch_trend",
            -1,
            "log((watch hours last 30 days + 1) / (watch hours in the 60 days before / 2 + 1))",
            S["watch_trend"],
        ),
        _d(
            "payment_failed_90d",
            +1,
            "payment_failed events in the 90 days before t",
            S["payment_failures_90d"],
        ),
        _d(
            "payment_failed_30d",
            +1,
            "payment_failed in the 30 days before t (involuntary "
            "churn, on top of the 90-day count)",
            S["payment_failed_last_month"],
        ),
        _d(
            "days_since_last_login",
            +1,
            "days from the last login event before t (capped at 90)",
            S["days_since_login"],
        ),
        _d("device_count", -1, "device_count (static per subscriber)", S["device_count"]),
        _d(
            "new_subscriber",
            +1,
            "exp(-tenure_months / 6), tenure_months = months from created_at to t: churn is "
            "highest in the first months and falls with tenure",
            S["new_subscriber"],
        ),
        _d("plan_price", +1, "plan: Basic < Standard < Premium 4K", dict(sub.PLAN_EFFECT)),
        _d("affinity_card", -1, "affinity_card == 1", S["affinity_card"]),
        _i("login_count_30d", -1, "login events in the 30 days before t (engagement)"),
        _i("purchase_count_90d", -1, "purchase events in the 90 days before t (engagement)"),
    ),
    no_effect=("age", "country", "email"),
)

LEAD_CONVERSION = OutcomeTruth(
    outcome="lead_conversion",
    population="all leads; open leads (no converted_at, no lost_at) are censored at end",
    label="converted_at is set (eventual conversion; for a horizon label, converted_at in "
    "(t, t + horizon])",
    effects=(
        _d(
            "title_seniority",
            +1,
            "seniority_of_title(title): C-level > VP > Director > Manager "
            "> Individual contributor > missing",
            dict(ld.SENIORITY_EFFECT),
        ),
        _d(
            "corporate_email",
            +1,
            f"email domain not a free-mail domain ({', '.join(FREE_MAIL_DOMAINS)})",
            ld.COEF["corporate_email"],
        ),
        _d(
            "source",
            +1,
            "referral best, then event; outbound and social worst",
            dict(ld.SOURCE_EFFECT),
        ),
        _d("phone_provided", +1, "phone is not null", ld.COEF["phone"]),
        _d(
            "budget_fit",
            +1,
            "log(budget / reference) clipped to [-1, 0.3]; reference is the "
            "median sale_price of that property_type and location around created_at (buyers) "
            "or the lead's deal_value (B2B)",
            ld.COEF["budget_fit"],
        ),
        _d(
            "timeline_urgency",
            +1,
            "timeline: 1-3 months best, 1+ years worst",
            dict(ld.TIMELINE_EFFECT),
        ),
        _d(
            "config",
            +1,
            "the scoring configuration sets the base rate (intercepts)",
            {k: v.intercept for k, v in ld.CONFIGS.items()},
        ),
        _i(
            "email_click_count",
            +1,
            "email_click events before t (reveal latent interest, which has weight 0.8 per sd)",
        ),
        _i("email_open_count", +1, "email_open events before t"),
        _i("email_reply_count", +1, "email_reply events before t"),
        _i("form_submit_count", +1, "form_submit events before t"),
        _i("page_view_count", +1, "page_view events before t"),
        _i(
            "meeting_demo_count",
            +1,
            "meeting and demo events before t; a demo (buyers: a "
            "meeting) in the last 14 days signals an imminent conversion",
        ),
    ),
    no_effect=(
        "call count",
        "email_sent count",
        "location (B2B configs)",
        "company_size",
        "name",
        "company",
    ),
)

TIME_TO_CLOSE = OutcomeTruth(
    outcome="time_to_close",
    population="converted leads (open leads are right-censored at end; lost leads never close)",
    label="converted_at - created_at in days: median x timeline factor x "
    f"exp({ld.TIME_INTEREST_COEF} x interest) x lognormal(0, 0.45)",
    effects=(
        _d(
            "timeline",
            +1,
            "timeline: 1-3 months shortest, 1+ years longest (multipliers)",
            dict(ld.TIMELINE_DURATION),
        ),
        _d(
            "config",
            +1,
            "median days to close per configuration",
            {k: v.close_median_days for k, v in ld.CONFIGS.items()},
        ),
        _i(
            "engagement_counts",
            -1,
            "email clicks, replies, form submits, meetings and demos "
            f"before t (interest shortens the cycle; activity cools with a {COOLING_DAYS:.0f}-day "
            "time constant)",
        ),
        _i("recent_demo", -1, "a demo or meeting in the last 14 days: conversion is near"),
    ),
    no_effect=("call count", "email_sent count", "phone", "company_size"),
)

MARKET: dict[str, Any] = {
    "annual_log_price_growth": {c: v.annual_growth for c, v in CITIES.items()},
    "demand": {c: v.demand for c, v in CITIES.items()},
    "median_price_at_end": {c: v.median_price for c, v in CITIES.items()},
    "property_type_factor": {p: v.price_factor for p, v in PROPERTY_TYPES.items()},
    "notes": "hot markets (demand > 0) sell faster and above asking; overpriced listings sit "
    "longer and sell below asking; prices peak in early summer",
}


def realised_rates(
    *,
    accounts: pd.DataFrame,
    subscribers: pd.DataFrame,
    leads: pd.DataFrame,
    deals: pd.DataFrame,
    events: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> dict[str, float]:
    """Base rates of the generated data, as documented in docs/simulator.md."""
    year_s = 365.25 * 86_400.0
    cust = accounts[accounts["account_type"] == "CUSTOMER"]
    begin = cust["created_at"].where(cust["created_at"] > start, start)
    stop = cust["churned_at"].fillna(end)
    exposure_years = float(((stop - begin).dt.total_seconds() / year_s).clip(lower=0).sum())
    churned = cust["churned_at"].notna()
    year_ago = end - pd.Timedelta(days=365)
    at_risk = (cust["created_at"] <= year_ago) & ~(cust["churned_at"] <= year_ago)
    n_leads = max(len(leads), 1)
    conv, lost = leads["converted_at"].notna(), leads["lost_at"].notna()
    return {
        "account_annual_churn": float(churned.sum()) / max(exposure_years, 1e-9),
        "account_churn_last_365d": float(churned[at_risk].mean()) if at_risk.any() else 0.0,
        "account_churned_share": float(churned.mean()) if len(cust) else 0.0,
        "subscriber_churned_share": float(subscribers["churned_at"].notna().mean())
        if len(subscribers)
        else 0.0,
        "lead_converted_share": float(conv.sum()) / n_leads,
        "lead_lost_share": float(lost.sum()) / n_leads,
        "lead_open_share": float((~conv & ~lost).sum()) / n_leads,
        "deal_sold_above_asking_share": float((deals["sale_price"] > deals["list_price"]).mean())
        if len(deals)
        else 0.0,
        "events_total": float(len(events)),
    }


def build_truth(*, rates: Mapping[str, float]) -> Truth:
    return Truth(
        account_churn=ACCOUNT_CHURN,
        subscriber_churn=SUBSCRIBER_CHURN,
        lead_conversion=LEAD_CONVERSION,
        time_to_close=TIME_TO_CLOSE,
        market=MARKET,
        rates=dict(rates),
    )
