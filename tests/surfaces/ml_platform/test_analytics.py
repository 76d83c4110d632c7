"""`GET /api/ml/analytics/dashboard` and `GET /api/ml/analytics/models/compare`: the document's
keys and types, the shared holdout, errors and tenant isolation."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.models import ModelVersion
from propensity.monitoring.tasks import check_drift
from propensity.settings import Settings
from tests.surfaces.ml_platform.helpers_monitoring import (
    assert_error,
    call,
    monitored_tenant,
    stranger,
)

NUMBER = (int, float)


def test_dashboard_as_documented(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, (model_id,) = monitored_tenant(database, settings)
    data = call(client, user, "/analytics/dashboard", params={"period": "7d"})
    summary = data["summary"]
    assert {
        "totalPredictions",
        "averageAccuracy",
        "averageLatency",
        "activeModels",
        "alertsCount",
    } <= set(summary)
    assert summary["activeModels"] == 1 and summary["totalPredictions"] == 0
    (row,) = data["modelPerformance"]
    assert {"modelId", "name", "predictions", "accuracy", "latency", "driftScore", "status"} <= set(
        row
    )
    assert row["modelId"] == str(model_id) and row["status"] == "active"
    # No daily drift check has run yet: the dashboard does not recompute it.
    assert row["driftScore"] is None
    health = data["systemHealth"]
    assert {"cpuUsage", "memoryUsage", "queueDepth", "errorRate"} <= set(health)
    assert health["cpuUsage"] is None or 0 <= health["cpuUsage"] <= 1
    assert health["memoryUsage"] is None or 0 < health["memoryUsage"] < 1
    assert health["queueDepth"] == 0
    assert data["trends"] == {"accuracyTrend": [], "latencyTrend": []}

    check_drift(database)
    checked = call(client, user, "/analytics/dashboard", params={"models": str(model_id)})
    assert isinstance(checked["modelPerformance"][0]["driftScore"], NUMBER)

    assert_error(
        call(client, user, "/analytics/dashboard", params={"period": "90d"}, expect=400),
        "INVALID_PERIOD",
    )
    assert_error(
        call(client, user, "/analytics/dashboard", params={"models": "31337"}, expect=404),
        "MODEL_NOT_FOUND",
    )
    other = stranger(database, settings)
    assert call(client, other, "/analytics/dashboard")["modelPerformance"] == []
    assert_error(
        call(client, other, "/analytics/dashboard", params={"models": str(model_id)}, expect=404),
        "MODEL_NOT_FOUND",
    )


def test_compare_scores_every_model_on_the_same_holdout(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, (first, second) = monitored_tenant(database, settings, seeds=(0, 1))
    params = {"modelIds": f"{first},{second}", "metrics": "accuracy,recall,auc,latency"}
    data = call(client, user, "/analytics/models/compare", params=params)
    comparison = data["comparison"]
    assert comparison["models"] == [str(first), str(second)]  # as GET /models names them
    assert set(comparison["metrics"]) == {"accuracy", "recall", "auc", "latency"}
    for name in ("accuracy", "recall", "auc"):
        entry = comparison["metrics"][name]
        assert isinstance(entry[str(first)], NUMBER) and isinstance(entry[str(second)], NUMBER)
        assert entry["winner"] in {str(first), str(second), None}
        assert entry["difference"] == pytest.approx(
            abs(entry[str(first)] - entry[str(second)]), abs=1e-6
        )
    # No request was timed: no live latency, no winner.
    assert comparison["metrics"]["latency"]["winner"] is None
    # The newest model was trained on exactly this data: its holdout is its own test split.
    with database.tenant_session(user.tenant_id) as session:
        stored = dict(session.get(ModelVersion, second).metrics)  # type: ignore[union-attr]
    assert comparison["holdout"]["rows"] == stored["rows"]
    assert comparison["metrics"]["accuracy"][str(second)] == pytest.approx(
        stored["accuracy"], abs=1e-6
    )
    assert comparison["metrics"]["auc"][str(second)] == pytest.approx(stored["roc_auc"], abs=1e-6)
    (recommendation,) = data["recommendations"]
    assert recommendation["type"] == "deployment" and recommendation["model"] in {
        str(first),
        str(second),
    }
    assert 0 <= recommendation["confidence"] <= 1 and recommendation["reason"]

    path = "/analytics/models/compare"
    assert_error(
        call(client, user, path, params={"modelIds": str(first)}, expect=400), "VALIDATION_ERROR"
    )
    assert_error(
        call(client, user, path, params={**params, "metrics": "speed"}, expect=400),
        "VALIDATION_ERROR",
    )
    assert_error(
        call(client, user, path, params={**params, "period": "1y"}, expect=400), "INVALID_PERIOD"
    )
    missing = call(client, user, path, params={"modelIds": f"{first},777"}, expect=404)
    assert_error(missing, "MODEL_NOT_FOUND")
    assert missing["details"] == {"modelId": "777"}  # the document's string id
    assert_error(
        call(client, stranger(database, settings), path, params=params, expect=404),
        "MODEL_NOT_FOUND",
    )
