"""Per-configuration endpoints of spec/lead-ml.md: bulk prediction, ranking, tiers, accuracy,
feature importance and validation, on a simulated tenant with trained models."""

from __future__ import annotations

import math
from datetime import timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database, utcnow
from propensity.models import Lead, LeadScoringConfig, ModelVersion, Prediction
from propensity.settings import Settings
from tests.surfaces.conformance import assert_template_metadata
from tests.surfaces.lead_ml.helpers import call, lead_tenant, open_lead_ids

RANKED_KEYS = {
    "leadId",
    "email",
    "name",
    "company",
    "title",
    "score",
    "scoreLevel",
    "priorityRank",
    "priorityTier",
    "priorityScore",
    "conversionProbability",
    "reasoning",
}


def test_configuration_endpoints_as_documented(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, config = lead_tenant(database, settings)
    open_ids = open_lead_ids(database, user.tenant_id)

    bulk = call(client, user, "POST", f"/{config}/ml/bulk-predict", json={"limit": 40})
    assert bulk["processed"] == 40 and bulk["successful"] == 40 and bulk["failed"] == 0
    assert [p["leadId"] for p in bulk["predictions"]] == open_ids[:40]
    first = bulk["predictions"][0]
    assert first["error"] is None and first["result"]["predictionType"] == "CONVERSION"
    with database.tenant_session(user.tenant_id) as session:
        stored = session.get(Prediction, first["result"]["predictionId"])
        assert stored is not None and stored.probability == first["result"]["probability"]
        priorities = session.scalar(
            sa.select(sa.func.count(Prediction.id)).where(
                Prediction.prediction_type == "PRIORITY", Prediction.status == "ACTIVE"
            )
        )
        assert priorities == 40
    # The same request again is answered from the stored predictions.
    again = call(client, user, "POST", f"/{config}/ml/bulk-predict", json={"limit": 40})
    assert again["cached"] == 40 and again["scored"] == 0
    more = call(
        client, user, "POST", f"/{config}/ml/bulk-predict", json={"limit": 60, "minScore": 0}
    )
    assert more["scored"] == 20 and more["cached"] == 40
    # minScore skips scored leads below it; leads never scored are kept.
    high_bar = call(
        client, user, "POST", f"/{config}/ml/bulk-predict", json={"limit": 1, "minScore": 100}
    )
    assert [p["leadId"] for p in high_bar["predictions"]] == [open_ids[60]]

    ranked = call(client, user, "GET", f"/{config}/ml/ranked-leads", params={"limit": 60})
    rankings = ranked["rankings"]
    assert len(rankings) == 60
    assert set(rankings[0]) >= RANKED_KEYS
    assert [r["priorityRank"] for r in rankings] == list(range(1, 61))
    scores = [r["priorityScore"] for r in rankings]
    assert scores == sorted(scores, reverse=True)
    assert rankings[0]["priorityTier"] == "top"
    assert ranked["insights"]["rankedLeadCount"] == 61
    top_count = math.ceil(61 * settings.lead_tier_top_percent / 100)
    assert [r["priorityTier"] for r in rankings].count("top") == top_count
    assert all(r["score"] == round(100 * r["conversionProbability"]) for r in rankings)
    assert all(isinstance(r["reasoning"], str) and r["reasoning"] for r in rankings)
    insights = ranked["insights"]
    assert insights["topLeadCount"] == top_count
    top_probabilities = [r["conversionProbability"] for r in rankings[:top_count]]
    assert insights["avgConversionProbability"] == round(sum(top_probabilities) / top_count, 4)
    assert isinstance(insights["commonPatterns"], list)
    assert "No LLM is configured" in ranked["llmFallback"]
    assert_template_metadata(ranked["llmMetadata"], reason="No LLM is configured")
    # A lead's rank and the PRIORITY prediction recorded by the bulk run agree.
    leader = rankings[0]["leadId"]
    priority = call(
        client, user, "GET", f"/leads/{leader}/ml/prediction", params={"type": "PRIORITY"}
    )["prediction"]
    assert priority["priorityRank"] == 1 and priority["priorityTier"] == "top"
    # Like every prediction the document shows, with what drives it and what to do.
    assert priority["riskFactors"] and priority["recommendations"]

    cut = rankings[10]["conversionProbability"]
    filtered = call(
        client, user, "GET", f"/{config}/ml/ranked-leads", params={"minProbability": cut}
    )["rankings"]
    assert filtered and all(r["conversionProbability"] >= cut for r in filtered)
    call(
        client, user, "GET", f"/{config}/ml/ranked-leads", params={"minProbability": 2}, expect=400
    )

    top = call(client, user, "GET", f"/{config}/ml/top-leads", params={"n": 3})["leads"]
    assert [r["leadId"] for r in top] == [r["leadId"] for r in rankings[:3]]
    by_tier = call(client, user, "GET", f"/{config}/ml/leads-by-tier", params={"tier": "high"})
    assert by_tier["leads"] and {r["priorityTier"] for r in by_tier["leads"]} == {"high"}
    for bad in ({"tier": "gold"}, {}):
        invalid = call(client, user, "GET", f"/{config}/ml/leads-by-tier", params=bad, expect=400)
        assert invalid["code"] == "BAD_REQUEST" and invalid["details"]["allowed"] == [
            "top",
            "high",
            "medium",
            "low",
        ]

    importance = call(client, user, "GET", f"/{config}/ml/feature-importance")["importance"]
    with database.tenant_session(user.tenant_id) as session:
        version = session.scalars(
            sa.select(ModelVersion).where(
                ModelVersion.prediction_type == "CONVERSION", ModelVersion.status == "active"
            )
        ).one()
        shares = version.feature_importance
        groups = {s["name"]: s["group"] for s in version.feature_specs}
    assert len(importance) == len(shares)
    assert {i["feature"]: i["importance"] for i in importance} == {
        k: round(v, 4) for k, v in shares.items()
    }
    assert all(i["category"] == groups[i["feature"]] for i in importance)
    assert importance[0]["importance"] >= importance[-1]["importance"]

    # Validation by a person, then the accuracy counts.
    prediction_id = first["result"]["predictionId"]
    assert call(
        client, user, "POST", f"/predictions/{prediction_id}/validate", json={"wasAccurate": True}
    ) == {"success": True}
    for body in ({"wasAccurate": "yes"}, {}, {"wasAccurate": 1}):
        call(client, user, "POST", f"/predictions/{prediction_id}/validate", json=body, expect=400)
    call(
        client, user, "POST", "/predictions/999999/validate", json={"wasAccurate": True}, expect=404
    )
    today = utcnow().date()
    report = call(
        client,
        user,
        "GET",
        f"/{config}/ml/accuracy",
        params={"startDate": str(today - timedelta(days=1)), "endDate": str(today)},
    )
    assert report["validatedCount"] == 1 and report["accurateCount"] == 1
    assert report["accuracy"] == 1.0
    assert report["byType"]["CONVERSION"] == {"total": 1, "accurate": 1, "accuracy": 1.0}
    assert report["byType"]["TIME_TO_CLOSE"]["total"] == 0
    assert report["totalPredictions"] >= 60 * 3
    # An expired prediction for a lead that converted inside its horizon is judged by the
    # accuracy request itself.
    with database.tenant_session(user.tenant_id) as session:
        won = session.scalars(
            sa.select(Lead).where(Lead.converted_at.is_not(None)).order_by(Lead.id).limit(1)
        ).one()
        predicted_at = won.converted_at - timedelta(days=10)
        judged = Prediction(
            tenant_id=user.tenant_id,
            prediction_type="CONVERSION",
            lead_id=won.id,
            probability=0.9,
            outputs={"threshold": 0.5},
            predicted_at=predicted_at,
            valid_until=predicted_at + timedelta(days=1),
            status="ACTIVE",
        )
        session.add(judged)
        session.commit()
        judged_id = judged.id
    overall = call(client, user, "GET", f"/{config}/ml/accuracy")
    assert overall["byType"]["CONVERSION"] == {"total": 2, "accurate": 2, "accuracy": 1.0}
    with database.tenant_session(user.tenant_id) as session:
        stored_judgement = session.get(Prediction, judged_id)
        assert stored_judgement is not None
        assert (stored_judgement.was_accurate, stored_judgement.actual_value) == (True, 1.0)
    earlier = call(client, user, "GET", f"/{config}/ml/accuracy", params={"endDate": "2020-01-01"})
    assert earlier["totalPredictions"] == 0 and earlier["accuracy"] is None
    for params in (
        {"startDate": "yesterday"},
        {"startDate": "2026-02-01", "endDate": "2026-01-01"},
    ):
        call(client, user, "GET", f"/{config}/ml/accuracy", params=params, expect=400)

    with database.tenant_session(user.tenant_id) as session:
        missing = int(session.scalar(sa.select(sa.func.max(LeadScoringConfig.id))) or 0) + 1
    for method, path in (
        ("POST", "/ml/bulk-predict"),
        ("GET", "/ml/ranked-leads"),
        ("GET", "/ml/top-leads"),
        ("GET", "/ml/accuracy"),
        ("GET", "/ml/feature-importance"),
    ):
        gone = call(client, user, method, f"/{missing}{path}", expect=404)
        assert gone["code"] == "NOT_FOUND" and gone["details"] == {"configId": missing}
    call(client, user, "GET", "/abc/ml/top-leads", expect=400)
