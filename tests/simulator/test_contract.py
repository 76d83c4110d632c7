"""The frames match the import contract and respect time, identity and range rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from propensity.simulator import (
    ACCOUNT_COLUMNS,
    DEAL_COLUMNS,
    EVENT_COLUMNS,
    EVENT_TYPES,
    HEALTH_COLUMNS,
    LEAD_COLUMNS,
    SUBSCRIBER_COLUMNS,
    SimulatedData,
)

# The import formats, spelled out here rather than imported, so a renamed column fails.
CONTRACT = {
    "accounts": [
        "customer_id", "kind", "name", "email", "account_type", "industry", "employee_count",
        "plan", "arr", "health_score", "renewal_date", "created_at", "churned_at",
    ],
    "subscribers": [
        "customer_id", "kind", "email", "plan", "watch_time_hours", "device_count",
        "last_login_at", "payment_failures", "tenure_months", "lifetime_value",
        "membership_years", "total_purchases", "affinity_card", "login_frequency",
        "last_purchase_at", "created_at", "churned_at",
    ],
    "leads": [
        "lead_id", "config", "email", "name", "company", "title", "phone", "source",
        "created_at", "converted_at", "lost_at", "deal_value", "budget", "timeline",
        "property_type", "location",
    ],
    "events": ["event_id", "customer_id", "lead_id", "type", "occurred_at", "value"],
    "health": [
        "customer_id", "snapshot_date", "overall_score", "engagement", "product_adoption",
        "support_satisfaction", "executive_relationship",
    ],
    "deals": [
        "deal_id", "property_type", "location", "list_price", "sale_price", "listed_at",
        "sold_at",
    ],
}  # fmt: skip
FREE_MAIL = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com"]
EXTRAS = {
    "accounts": ["region", "seats_purchased", "csm_owner"],
    "subscribers": ["country", "age"],
    "leads": ["company_size"],
    "events": ["ticket_id", "severity", "channel", "sequence_step"],
    "health": [],
    "deals": ["square_feet", "bedrooms"],
}
EXPORTED = {
    "accounts": ACCOUNT_COLUMNS,
    "subscribers": SUBSCRIBER_COLUMNS,
    "leads": LEAD_COLUMNS,
    "events": EVENT_COLUMNS,
    "health": HEALTH_COLUMNS,
    "deals": DEAL_COLUMNS,
}
ID_COLUMN = {
    "accounts": "customer_id",
    "subscribers": "customer_id",
    "leads": "lead_id",
    "events": "event_id",
    "deals": "deal_id",
}
TIMESTAMPS = {
    "accounts": ["created_at", "churned_at"],
    "subscribers": ["last_login_at", "last_purchase_at", "created_at", "churned_at"],
    "leads": ["created_at", "converted_at", "lost_at"],
    "events": ["occurred_at"],
    "deals": ["listed_at", "sold_at"],
}


def _end(data: SimulatedData) -> pd.Timestamp:
    return pd.Timestamp(data.config.end, tz="UTC")


@pytest.mark.parametrize("name", list(CONTRACT))
def test_columns_are_the_contract_plus_documented_extras(small: SimulatedData, name: str) -> None:
    frame = small.frames()[name]
    assert list(frame.columns) == CONTRACT[name] + EXTRAS[name]
    assert tuple(frame.columns) == EXPORTED[name]


@pytest.mark.parametrize("name", list(ID_COLUMN))
def test_ids_are_unique_and_present(small: SimulatedData, name: str) -> None:
    ids = small.frames()[name][ID_COLUMN[name]]
    assert ids.notna().all()
    assert ids.is_unique


def test_id_formats(small: SimulatedData) -> None:
    assert small.accounts["customer_id"].str.fullmatch(r"acc_\d{5}").all()
    assert small.subscribers["customer_id"].str.fullmatch(r"usr_\d{6}").all()
    assert small.leads["lead_id"].str.fullmatch(r"lead_\d{5}").all()
    assert small.deals["deal_id"].str.fullmatch(r"deal_\d{5}").all()
    assert small.events["event_id"].str.fullmatch(r"evt_\d{7,}").all()


@pytest.mark.parametrize("name", list(TIMESTAMPS))
def test_timestamps_are_utc_and_dates_are_naive_midnights(small: SimulatedData, name: str) -> None:
    frame = small.frames()[name]
    for column in TIMESTAMPS[name]:
        assert str(frame[column].dtype) == "datetime64[us, UTC]", column
    for frame, column in ((small.accounts, "renewal_date"), (small.health, "snapshot_date")):
        assert str(frame[column].dtype) == "datetime64[us]"
        values = frame[column].dropna()
        assert (values == values.dt.normalize()).all()


def test_kinds_and_account_types(small: SimulatedData) -> None:
    assert set(small.accounts["kind"]) == {"account"}
    assert set(small.subscribers["kind"]) == {"subscriber"}
    types = small.accounts["account_type"].value_counts(normalize=True)
    assert set(types.index) == {"CUSTOMER", "PROSPECT"}
    assert types["CUSTOMER"] > 0.8


def test_every_event_names_exactly_one_existing_owner(small: SimulatedData) -> None:
    ev = small.events
    has_customer, has_lead = ev["customer_id"].notna(), ev["lead_id"].notna()
    assert (has_customer ^ has_lead).all()
    customers = set(small.accounts["customer_id"]) | set(small.subscribers["customer_id"])
    assert set(ev.loc[has_customer, "customer_id"]) <= customers
    assert set(ev.loc[has_lead, "lead_id"]) <= set(small.leads["lead_id"])


def test_event_types_are_the_documented_ones_and_all_occur(small: SimulatedData) -> None:
    assert set(small.events["type"]) == set(EVENT_TYPES)


def test_values_where_the_type_has_one(small: SimulatedData) -> None:
    ev = small.events
    valued = ev["type"].isin(["watch", "purchase", "payment_failed"])
    assert ev.loc[valued, "value"].notna().all()
    assert (ev.loc[valued, "value"] >= 0).all()
    assert ev.loc[~valued, "value"].isna().all()


def test_no_event_at_or_after_end(small: SimulatedData) -> None:
    occurred = small.events["occurred_at"]
    assert occurred.max() < _end(small)
    start = _end(small) - pd.Timedelta(days=small.config.history_days)
    assert occurred.min() >= start


def test_no_customer_event_after_churn_or_before_signup(small: SimulatedData) -> None:
    customers = pd.concat([small.accounts, small.subscribers])[
        ["customer_id", "created_at", "churned_at"]
    ]
    ev = small.events.dropna(subset=["customer_id"]).merge(customers, on="customer_id")
    assert not (ev["occurred_at"] >= ev["churned_at"]).any()
    assert not (ev["occurred_at"] < ev["created_at"]).any()


def test_no_lead_event_before_creation_or_after_loss(small: SimulatedData) -> None:
    ev = small.events.dropna(subset=["lead_id"]).merge(
        small.leads[["lead_id", "created_at", "converted_at", "lost_at"]], on="lead_id"
    )
    assert not (ev["occurred_at"] < ev["created_at"]).any()
    assert not (ev["occurred_at"] >= ev["lost_at"]).any()
    # After conversion only the documented onboarding touches, within ten days.
    after = ev[ev["occurred_at"] >= ev["converted_at"]]
    assert set(after["type"]) <= {"meeting", "email_sent"}
    assert (after["occurred_at"] - after["converted_at"] <= pd.Timedelta(days=10)).all()


def test_tickets_resolve_after_opening_and_some_stay_open(small: SimulatedData) -> None:
    ev = small.events
    opened = ev[ev["type"] == "ticket_opened"].set_index("ticket_id")
    resolved = ev[ev["type"] == "ticket_resolved"].set_index("ticket_id")
    assert opened.index.is_unique and resolved.index.is_unique
    assert opened["severity"].notna().all() and opened["channel"].notna().all()
    assert set(resolved.index) <= set(opened.index)
    both = resolved.merge(
        opened, left_index=True, right_index=True, suffixes=("", "_opened"), how="left"
    )
    assert (both["occurred_at"] > both["occurred_at_opened"]).all()
    assert (both["customer_id"] == both["customer_id_opened"]).all()
    assert 0 < len(set(opened.index) - set(resolved.index)) < 0.5 * len(opened)
    assert ev.loc[~ev["type"].str.startswith("ticket_"), "ticket_id"].isna().all()


def test_health_rows_are_weekly_for_customers_until_churn(small: SimulatedData) -> None:
    h = small.health
    customers = small.accounts[small.accounts["account_type"] == "CUSTOMER"]
    assert set(h["customer_id"]) <= set(customers["customer_id"])
    assert not h.duplicated(["customer_id", "snapshot_date"]).any()
    gaps = h.sort_values("snapshot_date").groupby("customer_id")["snapshot_date"].diff()
    assert (gaps.dropna() == pd.Timedelta(days=7)).all()
    joined = h.merge(customers[["customer_id", "created_at", "churned_at"]], on="customer_id")
    snap = joined["snapshot_date"].dt.tz_localize("UTC")
    assert not (snap >= joined["churned_at"]).any()
    assert not (snap <= joined["created_at"]).any()
    assert (snap < _end(small)).all()


def test_scores_are_in_range_and_overall_is_the_weighted_sum(small: SimulatedData) -> None:
    h = small.health
    for column in HEALTH_COLUMNS[2:]:
        assert h[column].between(0, 100).all(), column
    weighted = (
        0.35 * h["engagement"]
        + 0.25 * h["product_adoption"]
        + 0.20 * h["support_satisfaction"]
        + 0.20 * h["executive_relationship"]
    )
    residual = h["overall_score"] - weighted
    assert abs(residual.mean()) < 0.5
    assert 1.0 < residual.std() < 3.5  # the documented noise (sd 2) plus rounding/clipping


def test_account_attributes_are_consistent(small: SimulatedData) -> None:
    a = small.accounts
    cust = a[a["account_type"] == "CUSTOMER"]
    prospects = a[a["account_type"] == "PROSPECT"]
    assert cust["health_score"].between(0, 100).all()
    assert (cust["arr"] > 0).all() and (prospects["arr"] == 0).all()
    assert prospects["churned_at"].isna().all() and prospects["health_score"].isna().all()
    assert (cust["renewal_date"].dt.tz_localize("UTC") > cust["created_at"]).all()
    assert (a["churned_at"].dropna() > a.loc[a["churned_at"].notna(), "created_at"]).all()
    assert (a["employee_count"] > 0).all()
    assert a["email"].str.fullmatch(r"[a-z._]+@[a-z0-9]+\.[a-z]+").all()
    assert a["name"].is_unique
    # health_score is the latest snapshot's overall score.
    latest = small.health.sort_values("snapshot_date").groupby("customer_id").last()
    joined = cust.set_index("customer_id").join(latest, how="inner")
    assert (joined["health_score"] == joined["overall_score"]).all()
    active = cust[cust["churned_at"].isna()]
    assert (active["renewal_date"] >= pd.Timestamp(small.config.end)).all()


def test_subscriber_snapshot_agrees_with_events(small: SimulatedData) -> None:
    s = small.subscribers.set_index("customer_id")
    ev = small.events.dropna(subset=["customer_id"])
    ev = ev[ev["customer_id"].str.startswith("usr_")]
    obs_end = s["churned_at"].fillna(_end(small))
    count = ev.groupby(["customer_id", "type"]).size().unstack(fill_value=0)
    count = count.reindex(s.index, fill_value=0)

    logins = ev[ev["type"] == "login"]
    last_login = logins.groupby("customer_id")["occurred_at"].max().reindex(s.index)
    assert (s["last_login_at"] >= last_login.fillna(s["last_login_at"])).all()
    assert (s["last_login_at"] < obs_end).all()
    recent = logins[
        logins["occurred_at"] >= logins["customer_id"].map(obs_end) - pd.Timedelta(days=28)
    ]
    per_week = recent.groupby("customer_id").size().reindex(s.index, fill_value=0) / 4.0
    assert np.allclose(s["login_frequency"], per_week)

    in_window = s["created_at"] >= _end(small) - pd.Timedelta(days=small.config.history_days)
    for column, etype in (("payment_failures", "payment_failed"), ("total_purchases", "purchase")):
        assert (s[column] >= count[etype]).all(), column
        assert (s.loc[in_window, column] == count.loc[in_window, etype]).all(), column
    buys = ev[ev["type"] == "purchase"].groupby("customer_id")["occurred_at"].max()
    bought = buys.reindex(s.index).notna()
    # Purchases before the window are older than any inside it.
    assert (s.loc[bought, "last_purchase_at"] == buys.reindex(s.index)[bought]).all()
    assert (s.loc[~bought & in_window, "last_purchase_at"]).isna().all()

    watch = ev[ev["type"] == "watch"].sort_values("occurred_at")
    last_watch = watch.groupby("customer_id")["value"].last().reindex(s.index)
    active = s["churned_at"].isna() & last_watch.notna()
    assert np.allclose(s.loc[active, "watch_time_hours"], last_watch[active], atol=0.051)

    tenure_days = (obs_end - s["created_at"]).dt.total_seconds() / 86_400
    assert (s["tenure_months"] == np.floor(tenure_days / 30.44)).all()
    assert np.allclose(s["membership_years"], tenure_days / 365.25, atol=0.006)
    assert (s["lifetime_value"] > 0).all()
    assert s["affinity_card"].isin([0, 1]).all()
    assert s["device_count"].between(1, 6).all()
    assert set(s["plan"]) == {"Basic", "Standard", "Premium 4K"}


def test_lead_attributes(small: SimulatedData) -> None:
    ld = small.leads
    assert set(ld["config"]) == {"Inbound SaaS", "Outbound Enterprise", "Real Estate Buyers"}
    assert not (ld["converted_at"].notna() & ld["lost_at"].notna()).any()
    assert (ld["converted_at"].dropna() > ld.loc[ld["converted_at"].notna(), "created_at"]).all()
    assert (ld["lost_at"].dropna() > ld.loc[ld["lost_at"].notna(), "created_at"]).all()
    assert (ld["created_at"] < _end(small)).all()
    assert (ld["converted_at"].dropna() < _end(small)).all()
    assert (ld["deal_value"] > 0).all() and (ld["budget"] > 0).all()
    assert set(ld["timeline"]) == {"1-3 months", "3-6 months", "6-12 months", "1+ years"}
    re = ld["config"] == "Real Estate Buyers"
    assert set(ld.loc[re, "property_type"]) == {
        "single-family", "condo", "townhouse", "multi-family"
    }  # fmt: skip
    assert ld.loc[~re, "property_type"].isna().all()
    for column in ("company", "title", "phone"):
        assert 0 < ld[column].isna().mean() < 1, column
    free = ld["email"].str.split("@").str[1].isin(FREE_MAIL)
    assert 0.2 < free.mean() < 0.7


def test_deals_are_plausible_sales(small: SimulatedData) -> None:
    d = small.deals
    assert (d["listed_at"] < d["sold_at"]).all()
    assert (d["sold_at"] < _end(small)).all()
    dom = (d["sold_at"] - d["listed_at"]).dt.days
    assert 10 <= dom.median() <= 60 and dom.max() < 365
    ratio = d["sale_price"] / d["list_price"]
    assert ratio.between(0.8, 1.2).all()
    assert 0.05 < (ratio > 1).mean() < 0.6
    assert d["sale_price"].between(50_000, 10_000_000).all()


def test_emails_to_leads_carry_their_step_in_the_sequence(small: SimulatedData) -> None:
    events = small.events
    lead_events = events[events["lead_id"].notna()]
    sent = lead_events[lead_events["type"] == "email_sent"]
    assert sent["sequence_step"].notna().all() and (sent["sequence_step"] >= 1).all()
    assert events.loc[events["type"] != "email_sent", "sequence_step"].isna().all()
    assert events.loc[events["customer_id"].notna(), "sequence_step"].isna().all()
    # Written out again from the definition: 1, 2, ... per lead, a reply starts over.
    for _lead, rows in lead_events.groupby("lead_id", sort=False):
        step = 0
        for kind, value in zip(rows["type"], rows["sequence_step"], strict=True):
            if kind == "email_reply":
                step = 0
            elif kind == "email_sent":
                step += 1
                assert value == step
