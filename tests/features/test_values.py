"""Hand-computed values on a tiny data set: windows, recency, tickets, email rates, health
changes, renewal anniversaries and the lead-ml document's features."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd
import pytest

from propensity.db import Database
from propensity.features import build_scoring_frame, lead_feature_groups
from propensity.features.attributes import per_distinct
from propensity.features.columns import Columns, object_array
from propensity.features.lead_columns import company_size_estimate, title_seniority
from propensity.features.lead_profile import PROFILE_KEYS
from tests.features.helpers import T, account_scenario, lead_scenario


def account_row(database: Database, tenant: int, at: datetime = T) -> pd.Series:
    with database.tenant_session(tenant) as session:
        scoring = build_scoring_frame(session, prediction_type="CHURN", kind="account", as_of=at)
    frame = scoring.frame.set_index(pd.Index(scoring.external_ids))
    return frame.loc["acc1"]


def test_event_windows_recency_tickets_and_email_rates(database: Database, tenant: int) -> None:
    account_scenario().load(database, tenant)
    row = account_row(database, tenant)
    assert (row["login_7d"], row["login_30d"], row["login_90d"]) == (1, 2, 3)
    assert row["days_since_login"] == pytest.approx(1)
    assert row["open_tickets"] == 2  # T2 (opened twice, counted once) and T3
    assert row["ticket_opened_7d"] == 3
    assert row["email_open_rate_90d"] == pytest.approx(2 / 4)
    assert row["email_click_rate_90d"] == pytest.approx(1 / 4)
    assert row["days_since_executive_meeting"] == pytest.approx(45)
    # email, product, support, meeting
    assert row["channel_diversity_90d"] == 4
    assert row["high_value_actions_90d"] == 1
    # logins 2, tickets opened 4, email open 1 and click 1: email_sent and resolutions are
    # the company's doing, not the customer's.
    assert row["activity_30d"] == 8
    assert row["days_since_activity"] == pytest.approx(1)
    assert row["login_trend"] == pytest.approx(math.log((2 + 1) / (1 / 2 + 1)))
    assert row["industry"] == "retail"
    assert row["plan"] == "Growth"
    # Nothing recorded at all: recency counts from signup ("at least this long").
    with database.tenant_session(tenant) as session:
        scoring = build_scoring_frame(session, prediction_type="CHURN", kind="account", as_of=T)
    other = scoring.frame.set_index(pd.Index(scoring.external_ids)).loc["acc2"]
    assert other["days_since_login"] == pytest.approx(30)
    assert other["login_90d"] == 0
    assert math.isnan(other["email_open_rate_90d"])
    assert math.isnan(other["health_score_current"])


def test_health_levels_changes_and_slopes(database: Database, tenant: int) -> None:
    account_scenario().load(database, tenant)
    row = account_row(database, tenant)
    # t is noon: the snapshot dated that day (stamped at midnight) is already before t.
    assert row["health_score_current"] == 50
    assert row["health_change_30d"] == pytest.approx(50 - 60)  # the snapshot of t - 35d
    assert row["health_change_60d"] == pytest.approx(50 - 68)  # the snapshot of t - 63d
    assert row["health_change_90d"] == pytest.approx(50 - 76)  # the snapshot of t - 91d
    assert row["health_min_90d"] == 50
    assert row["health_slope_90d"] == pytest.approx(-2 / 7 * 30)
    assert row["health_engagement"] == 70
    assert row["health_product_adoption"] == 60
    assert row["health_product_adoption_slope_90d"] == pytest.approx(-1 / 7 * 30)
    assert row["health_engagement_slope_90d"] == pytest.approx(0)
    assert row["health_snapshot_age_days"] == pytest.approx(0.5)
    # At midnight the snapshot dated that day is not yet before t.
    midnight = account_row(database, tenant, datetime(2024, 6, 1, tzinfo=UTC))
    assert midnight["health_score_current"] == 52


def test_tenure_and_renewal_anniversary(database: Database, tenant: int) -> None:
    account_scenario().load(database, tenant)
    row = account_row(database, tenant)
    # Created 2023-06-20 09:00; t = 2024-06-01 12:00.
    assert row["tenure_days"] == pytest.approx(347 + 3 / 24)
    assert row["days_to_renewal"] == pytest.approx(18 + 21 / 24)
    assert row["first_renewal"] == 1
    later = account_row(database, tenant, datetime(2024, 6, 21, tzinfo=UTC))
    assert later["days_to_renewal"] == pytest.approx(364 + 9 / 24)
    assert later["first_renewal"] == 0


def lead_activity_times() -> list[datetime]:
    return [
        e["occurred_at"]
        for e in lead_scenario().events
        if e["type"] != "email_sent" and e["occurred_at"] < T
    ]


def test_lead_features_of_the_document(database: Database, tenant: int) -> None:
    lead_scenario().load(database, tenant)
    with database.tenant_session(tenant) as session:
        lead_id = int(
            build_scoring_frame(session, prediction_type="CONVERSION", as_of=T).entity_ids[0]
        )
        groups = lead_feature_groups(session, lead_id=lead_id, as_of=T)
    assert {g: list(v) for g, v in groups.items()} == {g: list(k) for g, k in PROFILE_KEYS.items()}
    assert groups["demographic"] == {
        "hasCompany": True,
        "hasTitle": True,
        "hasPhone": True,
        "emailDomainType": "corporate",
        "titleSeniority": "vp",
        "companySizeEstimate": "medium",
        "emailDomain": "acme.com",
    }
    assert groups["behavioral"] == {
        "emailOpenCount": 2,
        "emailClickCount": 1,
        "pageViewCount": 2,
        "formSubmitCount": 1,
        "meetingCount": 1,
        "callCount": 1,
        "activityVelocity": pytest.approx(9 / 20),
        "channelDiversity": 5,  # email, web, form, phone, meeting
        "highValueActionCount": 3,  # form, meeting, reply
        "totalActivities": 9,
    }
    times = lead_activity_times()
    weekend = sum(t.weekday() >= 5 for t in times) / len(times)
    business = sum(9 <= t.hour < 18 for t in times) / len(times)
    day = "weekend" if weekend > 0.5 else "weekday" if weekend < 0.15 else "mixed"
    hours = "business_hours" if business >= 0.7 else "after_hours" if business <= 0.3 else "mixed"
    assert groups["temporal"] == {
        "daysSinceCreated": 20,
        "daysSinceLastActivity": 1,
        "recencyScore": pytest.approx(math.exp(-1 / 14), abs=1e-4),
        "activityBurst": True,  # 6 in the last week against 3 in the 4 weeks before
        "dayPattern": day,
        "timePattern": hours,
        "leadAgeWeeks": 2,
    }
    assert groups["engagement"] == {
        # 2 opens + 3 click + 5 reply + 2 views + 4 form + 8 meeting + 2 call = 26
        "totalEngagementScore": round(100 * (1 - math.exp(-26 / 40))),
        "emailOpenRate": pytest.approx(2 / 3, abs=1e-4),
        "emailClickRate": pytest.approx(1 / 3, abs=1e-4),
        # the third email's open comes after t
        "sequenceEngagement": pytest.approx(2 / 3, abs=1e-4),
        "avgResponseTime": pytest.approx((7200 + 3600) / 2),
        "isInActiveSequence": True,
        "currentSequenceStep": 3,
    }


def test_a_lead_without_activity(database: Database, tenant: int) -> None:
    lead_scenario().load(database, tenant)
    with database.tenant_session(tenant) as session:
        scoring = build_scoring_frame(session, prediction_type="CONVERSION", as_of=T)
        lead_id = int(scoring.entity_ids[list(scoring.external_ids).index("lead_b")])
        groups = lead_feature_groups(session, lead_id=lead_id, as_of=T)
    assert groups["demographic"]["emailDomainType"] == "free"
    assert groups["demographic"]["titleSeniority"] == "director"
    assert groups["demographic"]["hasCompany"] is False
    assert groups["demographic"]["companySizeEstimate"] == "unknown"
    assert groups["behavioral"]["totalActivities"] == 0
    assert groups["temporal"]["daysSinceLastActivity"] is None
    assert groups["temporal"]["recencyScore"] == 0
    assert groups["temporal"]["dayPattern"] == "none"
    assert groups["engagement"]["emailOpenRate"] is None
    assert groups["engagement"]["avgResponseTime"] is None
    assert groups["engagement"]["isInActiveSequence"] is False
    assert groups["engagement"]["currentSequenceStep"] is None


def test_title_seniority() -> None:
    titles = pd.Series(
        [
            "Chief Executive Officer",
            "CTO",
            "Senior Vice President, Sales",
            "VP Engineering",
            "Director of IT",
            "Head of Growth",
            "Engineering Manager",
            "Team Lead",
            "Analyst",
            None,
            "  ",
            "Founder & President",
        ]
    )
    assert title_seniority(titles).tolist() == [
        "c_level",
        "c_level",
        "vp",
        "vp",
        "director",
        "director",
        "manager",
        "manager",
        "individual_contributor",
        "unknown",
        "unknown",
        "c_level",
    ]


def test_a_value_mapped_once_per_distinct_value_is_mapped_as_each_alone() -> None:
    calls: list[object] = []

    def kind(value: object) -> str:
        calls.append(value)
        return f"{type(value).__name__}:{value}"

    # 1, 1.0 and True are one dictionary key but three values; a list cannot be a key.
    values: list[object] = [1, True, 1.0, "a", 1, "a", None, ["x"], None, True, ["x"]]
    mapped = per_distinct(kind, values)
    assert calls == [1, True, 1.0, "a", None, ["x"], ["x"]]
    assert mapped == [kind(v) for v in values]


def test_company_size_buckets_from_mixed_values() -> None:
    attributes = Columns(
        {
            "company_size": object_array([True, 1, "51-200", None, "enterprise", 1.0, "n/a"], 7),
            "employees": object_array([20, 20000, 5, 1500, None, None, None], 7),
        },
        length=7,
    )
    assert company_size_estimate(attributes).tolist() == [
        "small",  # True is no size: the next attribute's 20
        "small",
        "medium",
        "large",
        "enterprise",
        "small",
        "unknown",
    ]
