"""Lead-level endpoints of spec/lead-ml.md on a simulated tenant with trained models: the
document's keys and types, and values equal to what is stored."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.models import Prediction
from propensity.predictions.lead_scores import GROUPS, MAX_DAYS
from propensity.settings import Settings
from tests.surfaces.conformance import assert_template_metadata
from tests.surfaces.lead_ml.helpers import call, lead_tenant, open_lead_ids

RISK_KEYS = {"factor", "impact", "currentValue", "trend", "description"}
PREDICT_KEYS = {
    "predictionType",
    "probability",
    "confidence",
    "predictedValue",
    "predictedDays",
    "predictedScoreLevel",
    "predictionId",
    "riskFactors",
    "explanation",
    "recommendations",
    "llmMetadata",
}


def _stored(database: Database, tenant_id: int, prediction_id: int) -> Prediction:
    with database.tenant_session(tenant_id) as session:
        prediction = session.get(Prediction, prediction_id)
        assert prediction is not None
        session.expunge(prediction)
        return prediction


def test_lead_predictions_as_documented(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, _ = lead_tenant(database, settings)
    lead, other = open_lead_ids(database, user.tenant_id)[:2]

    first = call(client, user, "POST", f"/leads/{lead}/ml/predict", json={})["prediction"]
    assert set(first) >= PREDICT_KEYS
    assert first["predictionType"] == "CONVERSION" and first["cached"] is False
    stored = _stored(database, user.tenant_id, first["predictionId"])
    assert first["probability"] == stored.probability and 0 <= first["probability"] <= 1
    assert first["confidence"] == stored.confidence
    assert first["predictedScoreLevel"] in {"HOT", "WARM", "COLD"}
    threshold = stored.outputs["threshold"]
    expected_level = (
        "HOT"
        if stored.probability >= threshold
        else "WARM"
        if stored.probability >= threshold / 2
        else "COLD"
    )
    assert first["predictedScoreLevel"] == expected_level
    assert isinstance(first["predictedDays"], int) and 0 <= first["predictedDays"] <= MAX_DAYS
    assert first["explanation"]
    assert_template_metadata(first["llmMetadata"], reason="no LLM configured")
    for factor in first["riskFactors"]:
        assert set(factor) == RISK_KEYS and factor["impact"] in {"high", "medium", "low"}
        # The document's enum and type: a number (yes/no as 1/0) or a category's text.
        assert factor["trend"] in {"improving", "stable", "declining"}
        value = factor["currentValue"]
        assert isinstance(value, int | float | str) and not isinstance(value, bool), factor
    for recommendation in first["recommendations"]:
        assert {"priority", "action", "rationale", "expectedImpact", "timeframe"} <= set(
            recommendation
        )

    # Cached within validity; forceRefresh makes a new one and supersedes the old.
    again = call(client, user, "POST", f"/leads/{lead}/ml/predict", json={})["prediction"]
    assert again["cached"] is True and again["predictionId"] == first["predictionId"]
    fresh = call(
        client,
        user,
        "POST",
        f"/leads/{lead}/ml/predict",
        json={"forceRefresh": True, "includeExplanation": False},
    )["prediction"]
    assert fresh["cached"] is False and fresh["predictionId"] != first["predictionId"]
    assert fresh["explanation"] is None
    assert _stored(database, user.tenant_id, first["predictionId"]).status == "SUPERSEDED"

    latest = call(client, user, "GET", f"/leads/{lead}/ml/prediction")
    assert latest["id"] == fresh["predictionId"] and latest["isExpired"] is False
    assert latest["prediction"]["probability"] == fresh["probability"]
    for bad in ("CHURN", "x"):
        call(client, user, "GET", f"/leads/{lead}/ml/prediction", params={"type": bad}, expect=400)
    call(client, user, "GET", f"/leads/{other}/ml/prediction", expect=404)
    call(client, user, "GET", "/leads/abc/ml/prediction", expect=400)

    # Time to close: the AFT median and p10-p90, capped, probability within the horizon.
    timed = call(client, user, "POST", f"/leads/{lead}/ml/predict-time")["prediction"]
    assert timed["predictionType"] == "TIME_TO_CLOSE"
    stored_time = _stored(database, user.tenant_id, timed["predictionId"])
    assert timed["probability"] == stored_time.probability
    interval = timed["confidenceInterval"]
    assert 0 <= interval["low"] <= timed["predictedDays"] <= interval["high"] <= MAX_DAYS
    assert timed["predictedDays"] == min(MAX_DAYS, round(stored_time.predicted_value))
    assert timed["closesWithinYear"] is (stored_time.predicted_value <= MAX_DAYS)
    if not timed["closesWithinYear"]:
        assert timed["explanation"].startswith("Unlikely to close within a year")
    by_type = call(
        client, user, "GET", f"/leads/{lead}/ml/prediction", params={"type": "TIME_TO_CLOSE"}
    )
    assert by_type["id"] == timed["predictionId"]

    # Score: 0-100 from the conversion probability, its breakdown sums exactly.
    scored = call(client, user, "POST", f"/leads/{lead}/ml/predict-score")["prediction"]
    assert scored["predictionType"] == "SCORE"
    assert scored["predictedScore"] == round(100 * fresh["probability"])
    assert set(scored["scoreBreakdown"]) == set(GROUPS)
    assert sum(scored["scoreBreakdown"].values()) == scored["predictedScore"]
    assert all(isinstance(v, int) and v >= 0 for v in scored["scoreBreakdown"].values())
    cached_score = call(client, user, "POST", f"/leads/{lead}/ml/predict-score")["prediction"]
    assert cached_score["cached"] is True
    assert cached_score["predictionId"] == scored["predictionId"]

    features = call(client, user, "GET", f"/leads/{lead}/ml/features")["features"]
    assert list(features) == ["demographic", "behavioral", "temporal", "engagement"]
    assert isinstance(features["behavioral"]["totalActivities"], int)
    assert isinstance(features["demographic"]["hasPhone"], bool)
    assert features["temporal"]["daysSinceCreated"] > 0

    # The rule-based scorer says so and is stored without a model.
    ruled = call(client, user, "POST", f"/leads/{other}/ml/predict", json={"ruleBasedOnly": True})[
        "prediction"
    ]
    assert ruled["method"] == "rule_based" and ruled["modelVersionId"] is None
    points = ruled["ruleBased"]["points"]
    assert ruled["probability"] == points / 100
    assert points == sum(ruled["ruleBased"]["pointsByGroup"].values())
    assert ruled["confidence"] <= 0.5
    # Like every prediction in the document, it says what holds it back and what to do.
    assert ruled["riskFactors"] and ruled["recommendations"]
    assert set(ruled["riskFactors"][0]) == {
        "factor",
        "impact",
        "currentValue",
        "trend",
        "description",
    }
    assert all(r["action"] and r["timeframe"] for r in ruled["recommendations"])
    stored_rule = _stored(database, user.tenant_id, ruled["predictionId"])
    assert stored_rule.model_version_id is None
    assert stored_rule.outputs["method"] == "rule_based"
    # A model answer for the same lead is not the cached rule-based one.
    by_model = call(client, user, "POST", f"/leads/{other}/ml/predict")["prediction"]
    assert by_model["method"] == "model" and by_model["cached"] is False

    with database.tenant_session(user.tenant_id) as session:
        missing = int(session.scalar(sa.select(sa.func.max(Prediction.lead_id))) or 0) + 10_000
    for path in ("/ml/predict", "/ml/predict-time", "/ml/predict-score"):
        gone = call(client, user, "POST", f"/leads/{missing}{path}", expect=404)
        assert gone == {
            "error": "Lead not found",
            "code": "NOT_FOUND",
            "details": {"leadId": missing},
        }
    call(client, user, "GET", f"/leads/{missing}/ml/features", expect=404)
    call(client, user, "POST", "/leads/0/ml/predict", expect=400)
