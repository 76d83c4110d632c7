"""Contract tests for the account-level endpoints of spec/customer-success-ml.md, on a
simulated portfolio with real trained CHURN and HEALTH_TREND models."""

from __future__ import annotations

import re

import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.models import ModelVersion, Prediction
from propensity.narratives.risk import RiskCutoffs
from propensity.settings import Settings
from tests.surfaces.conformance import assert_template_metadata
from tests.surfaces.customer_success.helpers import account_ids, call, trained_accounts

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
CHURN_KEYS = {
    "predictionType",
    "probability",
    "confidence",
    "predictionWindowDays",
    "riskCategory",
    "churnProbability",
    "retentionProbability",
    "primaryChurnDrivers",
    "interventionUrgency",
    "riskFactors",
    "recommendations",
    "explanation",
    "llmMetadata",
}
HEALTH_KEYS = {
    "predictionType",
    "currentHealthScore",
    "predictedScore",
    "scoreTrajectory",
    "insights",
    "anomalies",
    "strengthAreas",
    "riskAreas",
    "recommendations",
}
DIMENSIONS = {"engagement", "product_adoption", "support_satisfaction", "executive_relationship"}


def _version(database: Database, tenant_id: int, prediction_type: str) -> ModelVersion:
    with database.tenant_session(tenant_id) as session:
        version = session.scalars(
            sa.select(ModelVersion).where(
                ModelVersion.prediction_type == prediction_type, ModelVersion.status == "active"
            )
        ).one()
        session.expunge(version)
        return version


def _stored(database: Database, tenant_id: int, prediction_id: int) -> Prediction:
    with database.tenant_session(tenant_id) as session:
        prediction = session.get(Prediction, prediction_id)
        assert prediction is not None
        session.expunge(prediction)
        return prediction


def test_churn_and_health_predictions_are_served_cached_and_refreshed(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_accounts(database, settings)
    churn_model = _version(database, user.tenant_id, "CHURN")
    health_model = _version(database, user.tenant_id, "HEALTH_TREND")
    ids = account_ids(database, user.tenant_id)
    account = ids[0]

    fresh = call(client, user, "POST", f"/{account}/ml/predict", json={"predictionType": "CHURN"})
    assert "cached" not in fresh
    data = fresh["data"]
    assert set(data) >= CHURN_KEYS
    stored = _stored(database, user.tenant_id, data["predictionId"])
    assert stored.customer_id == account and stored.model_version_id == churn_model.id
    assert data["probability"] == data["churnProbability"] == stored.probability
    assert 0 < data["probability"] < 1 and 0 <= data["confidence"] <= 1
    assert abs(data["retentionProbability"] - (1 - data["probability"])) < 1e-6
    assert data["predictionWindowDays"] == churn_model.horizon_days == 90
    cutoffs = RiskCutoffs.of(threshold=churn_model.threshold, settings=settings)
    assert data["riskCategory"] == cutoffs.category(data["probability"])
    assert data["interventionUrgency"] in {"immediate", "this_week", "this_month", "monitor"}
    assert data["explanation"] == stored.explanation and data["explanation"]
    assert_template_metadata(data["llmMetadata"], reason="no LLM configured")
    for factor in data["riskFactors"]:
        assert set(factor) == {"factor", "impact", "description"}
        assert factor["impact"] in {"high", "medium", "low"}
    # The drivers are the risk factors' own sentences, strongest first.
    descriptions = [f["description"] for f in data["riskFactors"]]
    assert data["primaryChurnDrivers"] == descriptions[: len(data["primaryChurnDrivers"])]
    for recommendation in data["recommendations"]:
        assert {"action", "priority", "timeframe", "expectedImpact"} <= set(recommendation)
    assert ISO_Z.match(data["predictedAt"]) and ISO_Z.match(data["validUntil"])

    again = call(client, user, "POST", f"/{account}/ml/predict", json={"predictionType": "CHURN"})
    assert again["cached"] is True
    assert again["data"]["predictionId"] == data["predictionId"]
    risk = call(client, user, "GET", f"/{account}/ml/churn-risk")
    assert risk["cached"] is True and risk["data"]["predictionId"] == data["predictionId"]

    forced = call(
        client,
        user,
        "POST",
        f"/{account}/ml/predict",
        json={"predictionType": "CHURN", "options": {"forceRefresh": True}},
    )
    assert "cached" not in forced
    assert forced["data"]["predictionId"] > data["predictionId"]
    assert _stored(database, user.tenant_id, data["predictionId"]).status == "SUPERSEDED"

    # churn-risk on an account never scored makes a prediction (not cached).
    other = call(client, user, "GET", f"/{ids[1]}/ml/churn-risk")
    assert other["cached"] is False and other["data"]["predictionType"] == "CHURN"

    health = call(
        client, user, "POST", f"/{account}/ml/predict", json={"predictionType": "HEALTH_TREND"}
    )["data"]
    assert set(health) >= HEALTH_KEYS
    assert health["predictionWindowDays"] == health_model.horizon_days
    assert health["probability"] is None
    stored_health = _stored(database, user.tenant_id, health["predictionId"])
    assert health["predictedScore"] == round(stored_health.predicted_value or 0, 1)
    change = health["predictedScore"] - health["currentHealthScore"]
    expected = "improving" if change > 3.05 else "declining" if change < -3.05 else None
    if expected:
        assert health["scoreTrajectory"] == expected
    assert set(health["strengthAreas"]) <= DIMENSIONS and set(health["riskAreas"]) <= DIMENSIONS
    assert not set(health["strengthAreas"]) & set(health["riskAreas"])
    for insight in health["insights"]:
        assert set(insight) == {"type", "severity", "message"}
    for anomaly in health["anomalies"]:
        assert set(anomaly) == {"dimension", "description", "severity"}
    insights = call(client, user, "GET", f"/{account}/ml/health-insights")
    assert insights["cached"] is True
    assert insights["data"]["predictionId"] == health["predictionId"]

    listed = call(client, user, "GET", f"/{account}/ml/predictions")["data"]
    assert {(p["predictionType"], p["status"]) for p in listed} == {
        ("CHURN", "ACTIVE"),
        ("HEALTH_TREND", "ACTIVE"),
    }
    assert [p["predictedAt"] for p in listed] == sorted(
        (p["predictedAt"] for p in listed), reverse=True
    )
    only_churn = call(client, user, "GET", f"/{account}/ml/predictions", params={"type": "CHURN"})
    assert [p["id"] for p in only_churn["data"]] == [forced["data"]["predictionId"]]
    history = call(
        client,
        user,
        "GET",
        f"/{account}/ml/predictions",
        params={"type": "CHURN", "includeExpired": "true"},
    )["data"]
    assert [p["status"] for p in history] == ["ACTIVE", "SUPERSEDED"]
    assert set(history[0]) >= {
        "id",
        "predictionType",
        "probability",
        "confidence",
        "explanation",
        "predictedAt",
        "validUntil",
        "status",
        "wasAccurate",
    }
    assert history[0]["wasAccurate"] is None
