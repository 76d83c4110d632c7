"""The request bodies of `/api/ml` are typed (schemas.py): /openapi.json (and so /docs) shows
each with the document's field names, and a body of the wrong shape is the surface's 400
VALIDATION_ERROR naming the field, not FastAPI's 422."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.settings import Settings
from tests.factories import make_tenant_user
from tests.surfaces.ml_platform.helpers_scores import error_of

MODEL = "/api/ml/models/{model_id}"
# (method, path) -> the document's field names of its body; nested objects by dotted path.
BODIES: dict[tuple[str, str], dict[str, set[str]]] = {
    ("put", "/api/ml/config"): {
        "": {"scoring", "training", "monitoring"},
        "scoring": {"maxBatchSize", "timeout", "caching"},
        "scoring.caching": {"enabled", "ttl", "maxSize"},
        "training": {"autoRetrain", "retrainThreshold", "maxTrainingTime", "validationSplit"},
        "monitoring": {"driftDetection", "alertThresholds"},
        "monitoring.alertThresholds": {"accuracyDrop", "latencyIncrease"},
    },
    ("post", "/api/ml/leads/batch-score"): {"": {"leadIds", "model", "priority"}},
    ("post", "/api/ml/predict/conversion"): {"": {"leadIds", "timeframe", "includeFactors"}},
    ("post", "/api/ml/models"): {
        "": {"name", "description", "type", "algorithm", "hyperparameters", "trainingConfig"},
        "trainingConfig": {"dataSource", "validationSplit", "earlyStopping", "patience"},
    },
    ("put", f"{MODEL}/status"): {"": {"status", "reason"}},
    ("post", f"{MODEL}/retrain"): {
        "": {"reason", "priority", "dataSource", "validationSplit", "hyperparameterTuning"}
    },
    ("post", f"{MODEL}/deploy"): {
        "": {"validationResults", "aBTest", "rollbackPlan"},
        "aBTest": {"enabled", "trafficSplit", "duration"},
        "rollbackPlan": {"previousModel", "monitoringPeriod"},
    },
    ("post", f"{MODEL}/deployment/evaluate"): {"": {"force"}},
    ("post", f"{MODEL}/deployment/rollback"): {"": {"reason"}},
}


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """The object schema behind a $ref, or behind the one non-null branch of an optional."""
    if "$ref" in schema:
        return _resolve(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    branches = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    if len(branches) == 1:
        return _resolve(branches[0], components)
    return schema


@pytest.mark.parametrize(("method", "path"), list(BODIES), ids=lambda v: str(v))
def test_every_request_body_has_its_documented_fields(
    client: TestClient, method: str, path: str
) -> None:
    spec = client.get("/openapi.json").json()
    components = spec["components"]["schemas"]
    body = spec["paths"][path][method]["requestBody"]
    root = _resolve(body["content"]["application/json"]["schema"], components)
    for dotted, names in BODIES[(method, path)].items():
        schema = root
        for part in [p for p in dotted.split(".") if p]:
            schema = _resolve(schema["properties"][part], components)
        assert names <= set(schema.get("properties", {})), (path, dotted, schema)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/leads/batch-score", {"leadIds": [1, True]}, "leadIds.1"),
        ("post", "/leads/batch-score", {"leadIds": ["7"]}, "leadIds.0"),
        ("post", "/leads/batch-score", {}, "leadIds"),
        ("post", "/predict/conversion", [1, 2], "body"),
        (
            "post",
            "/predict/conversion",
            {"leadIds": [1], "includeFactors": "yes"},
            "includeFactors",
        ),
        ("put", "/config", {"scoring": {"maxBatchSize": 0}}, "scoring.maxBatchSize"),
        ("put", "/config", {"scoring": {"unknownSetting": 1}}, "scoring.unknownSetting"),
        ("post", "/models", {"type": "scoring", "hyperparameters": [1]}, "hyperparameters"),
        ("post", "/models", {"type": "scoring", "name": 5}, "name"),
        ("put", "/models/1/status", {"reason": "no status"}, "status"),
        ("post", "/models/1/deploy", {"aBTest": {"trafficSplit": "half"}}, "aBTest.trafficSplit"),
        ("post", "/models/1/deploy", {"aBTest": {"duration": 7}}, "aBTest.duration"),
        ("post", "/models/1/deployment/evaluate", {"force": None}, "force"),
    ],
)
def test_a_body_of_the_wrong_shape_is_a_400_naming_the_field(
    client: TestClient,
    database: Database,
    settings: Settings,
    method: str,
    path: str,
    body: Any,
    field: str,
) -> None:
    admin = make_tenant_user(database, settings, slug="shapes")
    response = client.request(method, f"/api/ml{path}", headers=admin.headers, json=body)
    assert response.status_code == 400, response.text
    error = error_of(response.json())
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == field, error


def test_a_body_that_is_not_json_is_a_400_naming_the_body(
    client: TestClient, database: Database, settings: Settings
) -> None:
    admin = make_tenant_user(database, settings, slug="notjson")
    response = client.post(
        "/api/ml/leads/batch-score",
        content=b'{"leadIds": [1,',
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    error = error_of(response.json())
    assert error["code"] == "VALIDATION_ERROR" and error["details"]["field"] == "body"
    assert error["message"] == "Request body is not valid JSON"
