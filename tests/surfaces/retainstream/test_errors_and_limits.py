"""The documented errors of every RetainStream churn endpoint (401, 403, 503, 429) and the
rate limit header."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from propensity.app import create_app
from propensity.db import Database
from propensity.models import Role
from propensity.settings import Settings
from tests.factories import make_tenant_user

MODEL_ENDPOINTS = [
    ("GET", "/api/dashboard/metrics"),
    ("GET", "/api/dashboard/distribution"),
    ("GET", "/api/dashboard/features"),
    ("POST", "/api/dashboard/predict"),
    ("GET", "/api/customers/high-risk"),
    ("POST", "/api/customers/segment"),
    ("GET", "/api/predictions/results"),
    ("POST", "/api/predictions/generate"),
    ("GET", "/api/predictions/performance"),
    ("GET", "/api/model/status"),
    ("GET", "/api/model/features"),
]
ALL_ENDPOINTS = [*MODEL_ENDPOINTS, ("GET", "/api/customers/usr_1"), ("POST", "/api/model/train")]


def test_every_endpoint_needs_a_token(client: TestClient) -> None:
    for method, path in ALL_ENDPOINTS:
        missing = client.request(method, path)
        assert missing.status_code == 401, path
        assert missing.json() == {"success": False, "message": "Access token required"}
        bad = client.request(method, path, headers={"Authorization": "Bearer not-a-token"})
        assert bad.status_code == 403, path
        assert bad.json() == {"success": False, "message": "Invalid or expired token"}


def test_without_a_trained_model_the_endpoints_answer_503_not_500(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = make_tenant_user(database, settings, slug="empty")
    for method, path in MODEL_ENDPOINTS:
        response = client.request(method, path, headers=user.headers)
        assert response.status_code == 503, path
        body = response.json()
        assert body["success"] is False
        assert body["message"].startswith("No trained churn model"), path
    missing = client.get("/api/customers/usr_404", headers=user.headers)
    assert missing.status_code == 404
    assert missing.json() == {"success": False, "message": "Customer not found"}


def test_writes_need_their_roles(
    client: TestClient, database: Database, settings: Settings
) -> None:
    make_tenant_user(database, settings, slug="roles")
    viewer = make_tenant_user(
        database, settings, slug="roles", role=Role.VIEWER, existing_tenant=True
    )
    analyst = make_tenant_user(
        database, settings, slug="roles", role=Role.ANALYST, existing_tenant=True
    )
    for path in ("/api/dashboard/predict", "/api/predictions/generate", "/api/model/train"):
        response = client.post(path, headers=viewer.headers)
        assert response.status_code == 403
        assert response.json()["success"] is False
    response = client.post("/api/model/train", headers=analyst.headers)
    assert response.status_code == 403


def test_sample_size_is_validated(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = make_tenant_user(database, settings, slug="sizes")
    for bad in (0, 10_001, "many"):
        response = client.post(
            "/api/predictions/generate", json={"sample_size": bad}, headers=user.headers
        )
        assert response.status_code == 400
        assert response.json()["success"] is False
        assert "sample_size" in response.json()["message"]


def test_the_documented_limit_counts_down_per_ip(client: TestClient) -> None:
    first = client.get("/api/dashboard/metrics")
    second = client.get("/api/dashboard/metrics")
    assert first.headers["X-RateLimit-Remaining"] == "99"
    assert second.headers["X-RateLimit-Remaining"] == "98"


@pytest.mark.parametrize("path", ["/api/model/status", "/api/dashboard/metrics"])
def test_past_the_limit_the_answer_is_the_429_envelope(
    settings: Settings, database: Database, path: str
) -> None:
    app = create_app(settings, database)
    app.state.rate_limit_overrides = {"retainstream": "3/15minutes"}
    with TestClient(app) as limited:
        remaining = [limited.get(path).headers.get("X-RateLimit-Remaining") for _ in range(3)]
        assert remaining == ["2", "1", "0"]
        blocked = limited.get(path)
        assert blocked.status_code == 429
        assert blocked.json() == {
            "success": False,
            "message": "Too many requests, please try again later.",
        }
        assert int(blocked.headers["Retry-After"]) >= 1
        # Other surfaces are not counted against RetainStream's limit.
        assert limited.get("/api/kpi/churn/nothing").status_code == 404
    # A second application keeps its own counters.
    with TestClient(create_app(settings, database)) as fresh:
        assert fresh.get(path).status_code in (200, 401)
