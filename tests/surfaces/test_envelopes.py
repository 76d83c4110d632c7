"""Unknown routes, wrong methods and malformed bodies come back in each surface's envelope."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.settings import Settings
from tests.factories import make_tenant_user

ENVELOPES = [
    ("/api/crm/accounts/1/ml/unknown", lambda b: set(b) >= {"error"} and "success" not in b),
    ("/api/lead-scoring/unknown/route", lambda b: set(b) == {"error", "code", "details"}),
    ("/api/kpi/churn/unknown", lambda b: b["error"] == "Not found" and "message" in b),
    (
        "/api/ml/unknown",
        lambda b: b["success"] is False and set(b["error"]) == {"code", "message", "details"},
    ),
    ("/api/v1/unknown", lambda b: set(b["error"]) == {"code", "message", "details"}),
    ("/api/unknown", lambda b: b == {"success": False, "message": "Route not found"}),
]


@pytest.mark.parametrize(("path", "shape"), ENVELOPES)
def test_unknown_routes_use_the_surface_envelope(client: TestClient, path: str, shape) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 404
    assert shape(response.json()), response.json()


def test_wrong_method_is_405_in_the_surface_envelope(client: TestClient) -> None:
    response = client.get("/api/auth/login")
    assert response.status_code == 405
    assert response.json()["success"] is False
    assert "GET" in response.json()["message"]


def test_malformed_json_on_the_native_api_is_400_not_500(
    client: TestClient, database: Database, settings: Settings
) -> None:
    admin = make_tenant_user(database, settings)
    response = client.post(
        "/api/v1/api-keys",
        content=b'{"name": ',
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Request body is not valid JSON"
    response = client.post("/api/v1/api-keys", json={"name": 5}, headers=admin.headers)
    assert response.status_code == 400
    assert response.json()["error"]["details"]["errors"][0]["field"] == "name"


def test_responses_carry_a_request_id(client: TestClient) -> None:
    response = client.get("/api/health", headers={"X-Request-ID": "abc123"})
    assert response.headers["X-Request-ID"] == "abc123"
    assert len(client.get("/api/health").headers["X-Request-ID"]) == 16


def test_customer_success_names_internal_failures_as_its_document_does() -> None:
    from propensity.errors import NotFound, PropensityError
    from propensity.surfaces.envelopes import surface_for_path

    surface = surface_for_path("/api/crm/accounts/7/ml/predict")
    failure = surface.render(PropensityError("Internal Server Error"))
    assert failure == {"error": "Internal Server Error", "code": "PREDICTION_FAILED"}
    missing = surface.render(NotFound("Account not found", code="ACCOUNT_NOT_FOUND"))
    assert missing == {"error": "Account not found", "code": "ACCOUNT_NOT_FOUND"}
