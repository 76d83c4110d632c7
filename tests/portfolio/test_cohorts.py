"""The cohort rules and their precedence, without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from propensity.portfolio.aggregate import ScoredCustomer, aggregate
from propensity.portfolio.cohorts import CohortRules, Profile, cohort_of

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def profile(**overrides: Any) -> Profile:
    base = Profile(
        lifetime_value=100.0,
        affinity_card=False,
        total_purchases=5,
        last_purchase_at=NOW - timedelta(days=10),
        login_frequency=2.0,
        membership_years=3.0,
    )
    return replace(base, **overrides)


def test_rules_follow_the_document_with_vip_new_regular_dormant_precedence() -> None:
    assert cohort_of(profile(), as_of=NOW) == "Regular"
    assert cohort_of(profile(lifetime_value=5000.01, membership_years=0.2), as_of=NOW) == "VIP"
    assert cohort_of(profile(affinity_card=True, login_frequency=0.0), as_of=NOW) == "VIP"
    assert cohort_of(profile(lifetime_value=5000.0), as_of=NOW) == "Regular"
    assert cohort_of(profile(membership_years=0.5), as_of=NOW) == "New"
    assert cohort_of(profile(membership_years=0.5, login_frequency=0.0), as_of=NOW) == "New"
    stale = NOW - timedelta(days=91)
    assert cohort_of(profile(last_purchase_at=stale), as_of=NOW) == "Dormant"
    assert cohort_of(profile(login_frequency=0.0), as_of=NOW) == "Dormant"
    assert cohort_of(profile(last_purchase_at=None), as_of=NOW) == "Dormant"
    # Recent and active but fewer than two purchases, past the first year: no cohort.
    assert cohort_of(profile(total_purchases=1), as_of=NOW) is None
    # A purchase after the moment considered is not known at that moment.
    assert cohort_of(profile(last_purchase_at=NOW + timedelta(days=1)), as_of=NOW) == "Dormant"


def test_thresholds_are_configurable() -> None:
    rules = CohortRules(vip_lifetime_value=50.0, recent_purchase_days=5.0)
    assert cohort_of(profile(), as_of=NOW, rules=rules) == "VIP"
    assert cohort_of(profile(lifetime_value=10.0), as_of=NOW, rules=rules) == "Dormant"


def test_aggregate_counts_at_risk_at_or_above_the_threshold() -> None:
    customers = [
        ScoredCustomer(customer_id=1, probability=0.30, profile=profile(lifetime_value=1000.0)),
        ScoredCustomer(customer_id=2, probability=0.20, profile=profile(lifetime_value=2000.0)),
        ScoredCustomer(customer_id=3, probability=0.90, profile=profile(lifetime_value=7000.0)),
    ]
    figures = aggregate(customers, threshold=0.30, as_of=NOW)
    assert figures.total.customer_count == 3
    assert figures.total.at_risk_count == 2
    assert figures.total.ltv_at_risk == 8000.0
    assert round(figures.total.average_risk_score, 6) == round(100 * 1.4 / 3, 6)
    assert figures.cohort_counts() == {"VIP": 1, "Regular": 2, "New": 0, "Dormant": 0}
    assert figures.cohorts["At-Risk"].customer_count == 2
    assert figures.cohorts["VIP"].ltv_at_risk == 7000.0
