"""The documented effects are really in the data: simple grouped rates, with margins that
fail if an effect were absent (each was measured on several seeds; see the docstrings)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from propensity.simulator import SimulatedData, seniority_of_title
from propensity.simulator.deals import PROPERTY_TYPES

FREE_MAIL = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com"]
DAY = pd.Timedelta(days=1)


def _end(data: SimulatedData) -> pd.Timestamp:
    return pd.Timestamp(data.config.end, tz="UTC")


def _count(events: pd.DataFrame, etype: str, ids: pd.Series, key: str) -> np.ndarray:
    counts = events[events["type"] == etype].groupby(key).size()
    return counts.reindex(ids).fillna(0).to_numpy()


# Accounts -----------------------------------------------------------------------------


def test_churned_accounts_were_unhealthy_before_churning(medium: SimulatedData) -> None:
    """Measured: about 43 in the 60 days before churn against 63 for retained accounts."""
    cust = medium.accounts[medium.accounts["account_type"] == "CUSTOMER"]
    h = medium.health.merge(cust[["customer_id", "churned_at"]], on="customer_id")
    snap = h["snapshot_date"].dt.tz_localize("UTC")
    before_churn = h[h["churned_at"].notna() & (snap >= h["churned_at"] - 60 * DAY)]
    retained = h[h["churned_at"].isna() & (snap >= _end(medium) - 60 * DAY)]
    assert before_churn["overall_score"].mean() < retained["overall_score"].mean() - 10


def test_churned_accounts_logged_in_less_before_churning(medium: SimulatedData) -> None:
    """Measured: about 1.6 logins in the last 30 days before churn against 4.1 for retained."""
    cust = medium.accounts[medium.accounts["account_type"] == "CUSTOMER"]
    logins = medium.events[medium.events["type"] == "login"].merge(
        cust[["customer_id", "churned_at"]], on="customer_id"
    )
    churned = cust["churned_at"].notna()
    stop = logins["churned_at"].fillna(_end(medium))
    recent = logins[logins["occurred_at"] >= stop - 30 * DAY]
    per_churner = recent["churned_at"].notna().sum() / churned.sum()
    per_retained = recent["churned_at"].isna().sum() / (~churned).sum()
    assert per_churner < 0.7 * per_retained


def test_point_in_time_health_predicts_account_churn(medium: SimulatedData) -> None:
    """Only data before t: the weakest quarter by latest health churns far more in 90 days."""
    cust = medium.accounts[medium.accounts["account_type"] == "CUSTOMER"]
    cust = cust.set_index("customer_id")
    rows = []
    for months in range(4, 12):
        t = _end(medium) - pd.Timedelta(days=30 * months)
        known = medium.health[medium.health["snapshot_date"] <= t.tz_localize(None)]
        latest = known.sort_values("snapshot_date").groupby("customer_id")["overall_score"].last()
        alive = cust[(cust["created_at"] < t) & ~(cust["churned_at"] <= t)]
        score = latest.reindex(alive.index).dropna()
        churn = alive.loc[score.index, "churned_at"]
        rows.append(pd.DataFrame({"score": score, "label": churn <= t + 90 * DAY}))
    pooled = pd.concat(rows)
    low = pooled["score"] <= pooled["score"].quantile(0.25)
    high = pooled["score"] >= pooled["score"].quantile(0.75)
    assert pooled.loc[low, "label"].mean() > 3 * pooled.loc[high, "label"].mean()


# Subscribers --------------------------------------------------------------------------


def test_subscribers_with_payment_failures_churn_more(medium: SimulatedData) -> None:
    """Measured: about 0.37 against 0.26."""
    s = medium.subscribers
    failed = s["customer_id"].isin(
        medium.events.loc[medium.events["type"] == "payment_failed", "customer_id"]
    )
    churned = s["churned_at"].notna()
    assert churned[failed].mean() > churned[~failed].mean() + 0.07


def test_affinity_card_and_more_devices_lower_churn(medium: SimulatedData) -> None:
    """Measured: card 0.18 against 0.30; one device 0.34 against 0.23 for four or more."""
    s = medium.subscribers
    churned = s["churned_at"].notna()
    card = s["affinity_card"] == 1
    assert churned[card].mean() < churned[~card].mean() - 0.07
    assert churned[s["device_count"] == 1].mean() > churned[s["device_count"] >= 4].mean() + 0.05


def _pooled_subscriber_snapshots(data: SimulatedData, feature: str) -> pd.DataFrame:
    """Subscribers alive at several snapshot times t, one point-in-time feature computed from
    events before t, and the label "churns in (t, t + 90 days]"."""
    s = data.subscribers.set_index("customer_id")
    ev = data.events
    rows = []
    for days_back in (120, 150, 180, 210):
        t = _end(data) - days_back * DAY
        alive = s[(s["created_at"] < t - 30 * DAY) & ~(s["churned_at"] <= t)]
        label = (alive["churned_at"] > t) & (alive["churned_at"] <= t + 90 * DAY)
        before = ev[ev["occurred_at"] < t]
        if feature == "days_since_login":
            last = before[before["type"] == "login"].groupby("customer_id")["occurred_at"].max()
            value = (t - last.reindex(alive.index)).dt.days.fillna(10_000).astype(float)
        else:
            watch = before[(before["type"] == "watch") & (before["occurred_at"] >= t - 30 * DAY)]
            value = watch.groupby("customer_id")["value"].sum().reindex(alive.index).fillna(0.0)
        rows.append(pd.DataFrame({"value": value, "label": label}))
    return pd.concat(rows)


def test_point_in_time_login_recency_predicts_subscriber_churn(medium: SimulatedData) -> None:
    """Measured: about 0.10 churn in 90 days after 45+ days without login, 0.035 within 14."""
    pooled = _pooled_subscriber_snapshots(medium, "days_since_login")
    stale = pooled.loc[pooled["value"] > 45, "label"].mean()
    fresh = pooled.loc[pooled["value"] <= 14, "label"].mean()
    assert stale > 2 * fresh


def test_point_in_time_watch_time_predicts_subscriber_churn(medium: SimulatedData) -> None:
    """Measured: about 0.09 for the least-watching quarter, 0.03 for the most-watching."""
    pooled = _pooled_subscriber_snapshots(medium, "watch_hours_30d")
    value = pooled["value"]
    low = pooled.loc[value <= value.quantile(0.25), "label"].mean()
    high = pooled.loc[value >= value.quantile(0.75), "label"].mean()
    assert low > 1.8 * high


# Leads --------------------------------------------------------------------------------


def _converted(data: SimulatedData) -> pd.Series:
    return data.leads["converted_at"].notna()


def test_corporate_emails_convert_more(medium: SimulatedData) -> None:
    """Within each configuration (their base rates and free-mail shares differ, so a pooled
    rate mixes them). Measured: about 0.07 higher on average; Inbound SaaS 0.28 against 0.18."""
    leads, conv = medium.leads, _converted(medium)
    corporate = ~leads["email"].str.split("@").str[1].isin(FREE_MAIL)
    gaps = [
        conv[(leads["config"] == c) & corporate].mean()
        - conv[(leads["config"] == c) & ~corporate].mean()
        for c in leads["config"].unique()
    ]
    assert np.mean(gaps) > 0.04
    saas = leads["config"] == "Inbound SaaS"
    assert conv[saas & corporate].mean() > conv[saas & ~corporate].mean() + 0.05


def test_senior_titles_convert_more(medium: SimulatedData) -> None:
    """Measured: C-level and VP about 0.28 against 0.19 for individual contributors/none."""
    level = medium.leads["title"].map(seniority_of_title)
    conv = _converted(medium)
    senior = level.isin(["C-level", "VP"])
    junior = level.isin(["Individual contributor", ""])
    assert conv[senior].mean() > conv[junior].mean() + 0.04


def test_leads_that_click_emails_convert_more(medium: SimulatedData) -> None:
    """Measured: about 0.27 with a click against 0.19 without."""
    clicks = _count(medium.events, "email_click", medium.leads["lead_id"], "lead_id")
    conv = _converted(medium).to_numpy()
    assert conv[clicks >= 1].mean() > conv[clicks == 0].mean() + 0.04


def test_referrals_and_events_beat_outbound_and_social(medium: SimulatedData) -> None:
    """Measured: about 0.31 against 0.15."""
    source, conv = medium.leads["source"], _converted(medium)
    warm = source.isin(["referral", "event"])
    cold = source.isin(["outbound", "social"])
    assert conv[warm].mean() > conv[cold].mean() + 0.08


def test_urgent_timelines_convert_more_and_sooner(medium: SimulatedData) -> None:
    """Measured: 0.30 against 0.10; median 15 days to close against about 50."""
    leads, conv = medium.leads, _converted(medium)
    urgent, distant = leads["timeline"] == "1-3 months", leads["timeline"] == "1+ years"
    assert conv[urgent].mean() > conv[distant].mean() + 0.1
    days = (leads["converted_at"] - leads["created_at"]).dt.days
    slow = leads["timeline"] == "6-12 months"
    assert days[urgent & conv].median() * 2 < days[slow & conv].median()


# Deals --------------------------------------------------------------------------------


def test_prices_trend_by_location_as_documented(medium: SimulatedData) -> None:
    """Fitted annual log growth of size- and type-adjusted prices: Miami about +0.06,
    Austin about -0.04 (truth: +0.07 and -0.03)."""
    d = medium.deals
    ptype = d["property_type"]
    adjusted = np.log(
        d["sale_price"]
        / ptype.map(lambda p: PROPERTY_TYPES[p].price_factor)
        / (d["square_feet"] / ptype.map(lambda p: PROPERTY_TYPES[p].typical_sqft)) ** 0.8
    )
    years = (d["sold_at"] - _end(medium)).dt.days / 365.25
    slope = {
        city: float(np.polyfit(years[d["location"] == city], adjusted[d["location"] == city], 1)[0])
        for city in ("miami", "austin")
    }
    truth = medium.truth.market["annual_log_price_growth"]
    assert truth["miami"] > 0 > truth["austin"]
    assert slope["miami"] > 0.02 and slope["austin"] < 0.0
    assert slope["miami"] - slope["austin"] > 0.05


# The truth object ---------------------------------------------------------------------


def test_truth_is_machine_readable(medium: SimulatedData) -> None:
    truth = medium.truth
    assert set(truth.outcomes()) == {
        "account_churn",
        "subscriber_churn",
        "lead_conversion",
        "time_to_close",
    }
    for outcome in truth.outcomes().values():
        features = [e.feature for e in outcome.effects]
        assert len(features) == len(set(features)), outcome.outcome
        assert any(e.direct for e in outcome.effects)
        for e in outcome.effects:
            assert e.sign in (-1, 1)
            assert e.computation
            if isinstance(e.weight, float):
                # A numeric weight is on the outcome's scale, so its sign is the effect's.
                assert np.sign(e.weight) == e.sign, e.feature
    json.dumps(truth.to_dict())
    assert truth.account_churn.effect("health_overall_score").sign == -1
    assert truth.account_churn.effect("open_tickets").sign == +1
    assert truth.subscriber_churn.effect("payment_failed_90d").sign == +1
    assert truth.subscriber_churn.effect("affinity_card").sign == -1
    assert truth.lead_conversion.effect("email_click_count").sign == +1
    assert truth.lead_conversion.signs()["title_seniority"] == +1
    with pytest.raises(KeyError):
        truth.lead_conversion.effect("shoe_size")


@pytest.mark.parametrize(
    ("title", "level"),
    [
        ("CEO", "C-level"),
        ("Founder & CEO", "C-level"),
        ("Chief Revenue Officer", "C-level"),
        ("Vice President, Marketing", "VP"),
        ("VP Engineering", "VP"),
        ("Head of Growth", "Director"),
        ("IT Director", "Director"),
        ("Team Lead, Support", "Manager"),
        ("Marketing Manager", "Manager"),
        ("Data Analyst", "Individual contributor"),
        ("", ""),
        (None, ""),
    ],
)
def test_seniority_of_title(title: str | None, level: str) -> None:
    assert seniority_of_title(title) == level


def test_every_generated_title_maps_to_its_level(medium: SimulatedData) -> None:
    from propensity.simulator.leads import TITLES

    for level, titles in TITLES.items():
        assert {seniority_of_title(t) for t in titles} == {level}
    assert medium.leads["title"].dropna().isin([t for ts in TITLES.values() for t in ts]).all()
