"""`GET /api/ml/models/{modelId}/performance` and `.../drift`: the document's keys and types,
its errors (404 MODEL_NOT_FOUND, 400 on an invalid period) and tenant isolation."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database, utcnow
from propensity.models import Prediction
from propensity.registry.service import start_version
from propensity.settings import Settings
from tests.surfaces.ml_platform.helpers_monitoring import (
    assert_error,
    call,
    monitored_tenant,
    stranger,
)

NUMBER = (int, float)


def test_performance_as_documented(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, (model_id,) = monitored_tenant(database, settings)
    data = call(client, user, f"/models/{model_id}/performance")
    assert data["modelId"] == str(model_id) and data["period"] == "24h"
    assert {
        "predictionCount",
        "averageLatency",
        "errorRate",
        "accuracy",
        "driftScore",
    } <= set(data["metrics"])
    assert {"p50Latency", "p95Latency", "p99Latency", "throughput"} <= set(data["performance"])
    # Nothing was served yet: no count, no timings, no validations; drift is computed.
    assert data["metrics"]["predictionCount"] == 0
    assert data["metrics"]["averageLatency"] is None and data["performance"]["p95Latency"] is None
    # No outcome judged yet: the held-out test accuracy stored with the version, so labelled.
    assert data["metrics"]["accuracySource"] == "held-out"
    assert isinstance(data["metrics"]["accuracy"], float)
    assert isinstance(data["metrics"]["driftScore"], NUMBER)
    assert isinstance(data["alerts"], list)
    for alert in data["alerts"]:
        assert set(alert) == {"type", "severity", "message", "timestamp"}
        assert alert["type"] in {"drift", "accuracy", "latency"}
        assert alert["severity"] in {"warning", "critical"}

    # Recorded request timings count in the period.
    with database.tenant_session(user.tenant_id) as session:
        lead_id = session.scalar(sa.text("SELECT id FROM leads ORDER BY id LIMIT 1"))
        now = utcnow()
        for ms in (10.0, 20.0, 30.0):
            session.add(
                Prediction(
                    prediction_type="CONVERSION",
                    lead_id=lead_id,
                    model_version_id=model_id,
                    probability=0.3,
                    predicted_at=now,
                    valid_until=now,
                    latency_ms=ms,
                )
            )
    timed = call(
        client,
        user,
        f"/models/{model_id}/performance",
        params={"period": "1h", "metrics": "predictionCount,averageLatency"},
    )
    assert timed["period"] == "1h"
    assert timed["metrics"] == {"predictionCount": 3, "averageLatency": 20.0}
    assert timed["performance"]["p50Latency"] == 20.0
    assert timed["performance"]["throughput"] == round(3 / 60, 4)

    assert_error(
        call(client, user, f"/models/{model_id}/performance", params={"period": "2w"}, expect=400),
        "INVALID_PERIOD",
    )
    assert_error(
        call(
            client, user, f"/models/{model_id}/performance", params={"metrics": "speed"}, expect=400
        ),
        "VALIDATION_ERROR",
    )
    missing = call(client, user, "/models/999999/performance", expect=404)
    assert_error(missing, "MODEL_NOT_FOUND")
    assert missing["details"] == {"modelId": "999999"}
    assert_error(call(client, user, "/models/model-001/performance", expect=404), "MODEL_NOT_FOUND")
    # Another tenant cannot see this model, even by its id.
    other = stranger(database, settings)
    assert_error(
        call(client, other, f"/models/{model_id}/performance", expect=404), "MODEL_NOT_FOUND"
    )
    assert_error(call(client, other, f"/models/{model_id}/drift", expect=404), "MODEL_NOT_FOUND")


def test_drift_as_documented(client: TestClient, database: Database, settings: Settings) -> None:
    user, (model_id,) = monitored_tenant(database, settings)
    data = call(client, user, f"/models/{model_id}/drift")
    assert data["modelId"] == str(model_id)
    analysis = data["driftAnalysis"]
    assert {"overallDrift", "featureDrift", "conceptDrift"} <= set(analysis)
    assert isinstance(analysis["overallDrift"], NUMBER) and analysis["overallDrift"] >= 0
    assert "budget" in analysis["featureDrift"]
    assert all(isinstance(v, NUMBER) and v >= 0 for v in analysis["featureDrift"].values())
    # No prediction was validated yet: no concept drift, and the reason is given.
    assert analysis["conceptDrift"] is None and analysis["notes"]
    for feature in analysis["features"]:
        assert feature["psi"] == analysis["featureDrift"][feature["feature"]]
        assert feature["level"] in {"stable", "moderate", "significant"}
        assert {"pValue", "test", "sampleSize", "bins"} <= set(feature)
    for recommendation in data["recommendations"]:
        assert {"type", "priority", "reason", "suggestedAction"} <= set(recommendation)
        assert recommendation["priority"] in {"low", "medium", "high"}
    assert_error(call(client, user, "/models/424242/drift", expect=404), "MODEL_NOT_FOUND")

    # A version still training has no artifact: drift says so, performance has no drift score.
    with database.tenant_session(user.tenant_id) as session:
        training = start_version(session, prediction_type="CONVERSION", population="lead").id
    assert_error(call(client, user, f"/models/{training}/drift", expect=409), "MODEL_NOT_READY")
    pending = call(client, user, f"/models/{training}/performance")
    assert pending["metrics"]["driftScore"] is None
