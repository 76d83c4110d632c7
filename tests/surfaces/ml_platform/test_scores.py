"""`GET /api/ml/leads/{leadId}/score`: the document's shape with values from the stored
prediction, the score cache driven by the ML config, the documented errors, tenant isolation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.models import Lead, ModelVersion, Prediction
from propensity.serving import ScoringTimedOut as PredictionTimeout
from propensity.serving.fresh import check_timeout
from propensity.settings import Settings
from tests.factories import make_simulated_tenant
from tests.surfaces.ml_platform.helpers_scores import call, error_of, lead_ids, trained_leads


def _prediction(database: Database, tenant_id: int, prediction_id: int) -> Prediction:
    with database.tenant_session(tenant_id) as session:
        row = session.get(Prediction, prediction_id)
        assert row is not None
        session.expunge(row)
        return row


def test_score_with_explanation_reports_the_stored_prediction(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_leads(database, settings)
    lead_id = lead_ids(database, user.tenant_id)[0]
    body = call(client, user, "GET", f"/leads/{lead_id}/score", params={"explain": "true"})
    assert body["success"] is True
    data = body["data"]
    assert {
        "leadId",
        "score",
        "confidence",
        "modelVersion",
        "scoredAt",
        "predictionTime",
        "features",
        "explanation",
    } <= set(data)
    assert data["leadId"] == lead_id and data["cached"] is False
    stored = _prediction(database, user.tenant_id, data["predictionId"])
    assert stored.lead_id == lead_id and stored.prediction_type == "CONVERSION"
    assert data["score"] == round(100 * float(stored.probability or 0), 1)
    assert 0 <= data["score"] <= 100
    assert data["confidence"] == pytest.approx(stored.confidence, abs=1e-3)
    # The measured scoring time is stored for monitoring's latency percentiles.
    assert stored.latency_ms is not None and stored.latency_ms > 0
    assert data["predictionTime"] == round(stored.latency_ms)
    with database.tenant_session(user.tenant_id) as session:
        version = session.get(ModelVersion, stored.model_version_id)
        assert version is not None
        assert data["modelVersion"] == f"v{version.version_number}"
        lead = session.get(Lead, lead_id)
        assert lead is not None
        assert data["features"] == {
            "budget": lead.budget,
            "timeline": lead.timeline,
            "propertyType": lead.property_type,
            "location": lead.location,
        }
    importance = data["explanation"]["featureImportance"]
    top = stored.contributions["features"]
    assert importance and set(importance) <= set(top)
    assert sum(importance.values()) == pytest.approx(1.0, abs=1e-3)
    largest = max(top, key=lambda k: abs(top[k]))
    assert max(importance, key=importance.__getitem__) == largest
    factors = data["explanation"]["decisionFactors"]
    assert factors and factors == stored.outputs["decisionFactors"]
    # Without explain the explanation is left out.
    plain = call(client, user, "GET", f"/leads/{lead_id}/score")["data"]
    assert "explanation" not in plain


def test_scores_are_cached_per_the_ml_config(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_leads(database, settings)
    lead_id = lead_ids(database, user.tenant_id)[1]
    path = f"/leads/{lead_id}/score"
    first = call(client, user, "GET", path)["data"]
    again = call(client, user, "GET", path)["data"]
    assert again["cached"] is True and again["predictionId"] == first["predictionId"]
    assert again["score"] == first["score"]
    refreshed = call(client, user, "GET", path, params={"refresh": "true"})["data"]
    assert refreshed["cached"] is False and refreshed["predictionId"] != first["predictionId"]
    # The fresh one superseded the first.
    assert _prediction(database, user.tenant_id, first["predictionId"]).status == "SUPERSEDED"
    call(client, user, "PUT", "/config", json={"scoring": {"caching": {"ttl": 0}}})
    ids = {call(client, user, "GET", path)["data"]["predictionId"] for _ in range(2)}
    assert len(ids) == 2 and refreshed["predictionId"] not in ids
    call(
        client,
        user,
        "PUT",
        "/config",
        json={"scoring": {"caching": {"enabled": False, "ttl": 3600}}},
    )
    off = call(client, user, "GET", path)["data"]
    assert off["cached"] is False and off["predictionId"] not in ids
    call(client, user, "PUT", "/config", json={"scoring": {"caching": {"enabled": True}}})
    assert call(client, user, "GET", path)["data"]["predictionId"] == off["predictionId"]


def test_model_parameter_selects_a_conversion_model(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_leads(database, settings)
    lead_id = lead_ids(database, user.tenant_id)[2]
    with database.tenant_session(user.tenant_id) as session:
        version = session.scalars(
            sa.select(ModelVersion).where(ModelVersion.prediction_type == "CONVERSION")
        ).one()
        model_id, label = version.id, f"v{version.version_number}"
    by_label = call(client, user, "GET", f"/leads/{lead_id}/score", params={"model": label})
    by_id = call(client, user, "GET", f"/leads/{lead_id}/score", params={"model": str(model_id)})
    assert by_label["data"]["modelId"] == by_id["data"]["modelId"] == str(model_id)
    for unknown in ("v99", "999999", "model-x"):
        response = client.get(
            f"/api/ml/leads/{lead_id}/score", headers=user.headers, params={"model": unknown}
        )
        assert response.status_code == 404, response.text
        error = error_of(response.json())
        assert error["code"] == "MODEL_NOT_FOUND" and error["details"]["modelId"] == unknown


def test_unknown_lead_other_tenant_and_untrained_tenant(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_leads(database, settings)
    other = make_simulated_tenant(database, settings, slug="other", leads=30, seed=3)
    theirs = lead_ids(database, other.tenant_id, open_only=False)[0]
    for lead in (theirs, 987654321):
        response = client.get(f"/api/ml/leads/{lead}/score", headers=user.headers)
        assert response.status_code == 404
        error = error_of(response.json())
        assert error["code"] == "LEAD_NOT_FOUND" and error["details"] == {"leadId": lead}
    bad = client.get("/api/ml/leads/abc/score", headers=user.headers)
    assert bad.status_code == 400 and error_of(bad.json())["details"] == {"leadId": "abc"}
    # The other tenant has leads but no model: 503 with a hint, and nothing stored.
    response = client.get(f"/api/ml/leads/{theirs}/score", headers=other.headers)
    assert response.status_code == 503
    assert "hint" in error_of(response.json())["details"]
    with database.tenant_session(other.tenant_id) as session:
        assert session.scalar(sa.select(sa.func.count(Prediction.id))) == 0
    assert client.get(f"/api/ml/leads/{theirs}/score").status_code == 401


def test_prediction_timeout_is_the_documented_error() -> None:
    check_timeout(elapsed_ms=99.0, timeout_ms=100, model_id=7)
    with pytest.raises(PredictionTimeout) as raised:
        check_timeout(elapsed_ms=150.4, timeout_ms=100, model_id=7)
    error = raised.value
    assert error.status_code == 504 and error.code == "PREDICTION_TIMEOUT"
    assert error.details["timeout"] == 100 and error.details["modelId"] == "7"
