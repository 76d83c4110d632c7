"""Ranked-lead reasoning and the patterns top leads share."""

from __future__ import annotations

import random

from propensity.narratives import (
    EntityFacts,
    FeatureStats,
    PredictionFacts,
    common_patterns,
    lead_reasoning,
)
from tests.narratives.inputs import definitions_for

LEAD = definitions_for("CONVERSION", None)


def test_reasoning_names_the_real_values() -> None:
    facts = PredictionFacts.build(
        prediction_type="CONVERSION",
        contributions={"email_open_count": 0.6, "email_click_count": 0.4, "title_seniority": 0.3},
        values={"email_open_count": 12, "email_click_count": 5, "title_seniority": "vp"},
        definitions=LEAD,
        probability=0.78,
        feature_stats={"email_open_count": FeatureStats(p10=0, p50=3, p90=10)},
        facts=EntityFacts(title="VP Engineering"),
    )
    assert lead_reasoning(facts=facts) == (
        "High engagement (12 email opens, 5 email clicks), decision-maker title (VP Engineering)"
    )


def test_reasoning_without_strengths_names_what_holds_the_lead_back() -> None:
    facts = PredictionFacts.build(
        prediction_type="CONVERSION",
        contributions={"days_since_last_activity": -0.8},
        values={"days_since_last_activity": 40.0},
        definitions=LEAD,
        probability=0.05,
    )
    assert lead_reasoning(facts=facts) == "Held back by no activity in the last 40 days"


def _population(rng: random.Random, n: int) -> list[dict[str, object]]:
    return [
        {
            "email_domain_type": rng.choice(["corporate", "free", "free", "other"]),
            "has_phone": rng.choice([0.0, 1.0]),
            "title_seniority": rng.choice(["manager", "individual_contributor", "unknown", "vp"]),
            "activity_velocity": round(rng.uniform(0.0, 1.0), 2),
            "days_since_last_activity": round(rng.uniform(0, 60), 1),
        }
        for _ in range(n)
    ]


def test_planted_traits_are_found() -> None:
    rng = random.Random(5)
    everyone = _population(rng, 100)
    top = everyone[:10]
    for lead in top:
        lead["email_domain_type"] = "corporate"
        lead["activity_velocity"] = round(rng.uniform(2.0, 3.0), 2)
    patterns = common_patterns(top_leads=top, all_leads=everyone, definitions=LEAD)
    assert any(p.startswith("Corporate email domain (100% of top leads vs") for p in patterns)
    assert any(p.startswith("High activity velocity (median ") for p in patterns)
    # Nothing else was planted.
    assert len(patterns) == 2, patterns


def test_absent_traits_are_not_claimed() -> None:
    rng = random.Random(6)
    everyone = _population(rng, 200)
    assert common_patterns(top_leads=everyone[:10], all_leads=everyone, definitions=LEAD) == []


def test_a_trait_common_everywhere_is_not_a_pattern() -> None:
    everyone = [{"email_domain_type": "corporate"} for _ in range(50)]
    assert common_patterns(top_leads=everyone[:10], all_leads=everyone) == []


def test_senior_titles_group_and_recency_reads_naturally() -> None:
    rng = random.Random(7)
    everyone = _population(rng, 100)
    for lead, title in zip(
        everyone[:6], ["vp", "c_level", "director", "vp", "vp", "director"], strict=True
    ):
        lead["title_seniority"] = title
        lead["days_since_last_activity"] = 0.5
    patterns = common_patterns(top_leads=everyone[:6], all_leads=everyone, definitions=LEAD)
    assert any(p.startswith("Decision-maker titles (C-level, VP or director)") for p in patterns)
    assert any(p.startswith("Recently active (median 0 days") for p in patterns)


def test_too_few_top_leads_share_nothing() -> None:
    everyone = [{"email_domain_type": "corporate"}] * 2 + [{"email_domain_type": "free"}] * 20
    assert common_patterns(top_leads=everyone[:2], all_leads=everyone) == []


def test_missing_and_unknown_are_never_traits() -> None:
    everyone: list[dict[str, object]] = [
        {"title_seniority": "manager", "budget": 100.0} for _ in range(30)
    ]
    top: list[dict[str, object]] = [
        {"title_seniority": "unknown"},
        {"title_seniority": None},
        {},
        {"budget": None},
    ]
    assert common_patterns(top_leads=top, all_leads=[*top, *everyone]) == []


def test_features_that_read_alike_are_named_once() -> None:
    facts = PredictionFacts.build(
        prediction_type="CONVERSION",
        contributions={"email_open_rate": 0.5, "email_click_rate": 0.4, "email_reply_count": 0.3},
        values={"email_open_rate": None, "email_click_rate": None, "email_reply_count": 0},
        definitions=LEAD,
        probability=0.6,
    )
    assert lead_reasoning(facts=facts) == "Engagement (no emails sent yet, no email replies yet)"


def test_a_difference_too_small_to_print_is_not_a_pattern() -> None:
    rng = random.Random(9)
    everyone = [{"recency_score": rng.uniform(0.0, 0.004)} for _ in range(200)]
    top = [{"recency_score": 0.0001} for _ in range(10)]
    assert not any(
        "recency" in p.lower()
        for p in common_patterns(top_leads=top, all_leads=everyone, definitions=LEAD)
    )
