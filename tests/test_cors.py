"""CORS: configured origins may call the API from a browser; no other origin gets CORS headers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from propensity.app import create_app
from propensity.db import Database
from propensity.settings import Settings
from tests.factories import make_tenant_user

ALLOWED = "http://localhost:3000"
OTHER = "https://evil.example"


def _client(settings: Settings, database: Database, origins: list[str]) -> TestClient:
    configured = settings.model_copy(update={"cors_allowed_origins": origins})
    return TestClient(create_app(configured, database))


def _preflight(client: TestClient, origin: str) -> tuple[int, dict[str, str]]:
    response = client.options(
        "/api/v1/jobs",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization,x-tenant-id",
        },
    )
    return response.status_code, dict(response.headers)


def test_a_configured_origin_passes_preflight_and_reads_answers_and_errors(
    settings: Settings, database: Database
) -> None:
    user = make_tenant_user(database, settings)
    with _client(settings, database, [ALLOWED, "http://localhost:5000"]) as client:
        status, headers = _preflight(client, ALLOWED)
        assert status == 200
        assert headers["access-control-allow-origin"] == ALLOWED
        assert "authorization" in headers["access-control-allow-headers"].lower()
        ok = client.get("/api/v1/jobs", headers={**user.headers, "Origin": ALLOWED})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == ALLOWED
        assert "x-request-id" in ok.headers["access-control-expose-headers"].lower()
        # A refusal is readable by the browser client too, so it can show why.
        refused = client.get("/api/v1/jobs", headers={"Origin": ALLOWED})
        assert refused.status_code == 401
        assert refused.headers["access-control-allow-origin"] == ALLOWED


def test_other_origins_get_no_cors_headers(settings: Settings, database: Database) -> None:
    user = make_tenant_user(database, settings)
    with _client(settings, database, [ALLOWED]) as client:
        status, headers = _preflight(client, OTHER)
        assert status == 400
        assert "access-control-allow-origin" not in headers
        answer = client.get("/api/v1/jobs", headers={**user.headers, "Origin": OTHER})
        assert "access-control-allow-origin" not in answer.headers


def test_by_default_no_origin_is_allowed(settings: Settings, database: Database) -> None:
    assert settings.cors_allowed_origins == []
    with _client(settings, database, []) as client:
        _, headers = _preflight(client, ALLOWED)
        assert "access-control-allow-origin" not in headers


@pytest.mark.parametrize("origin", ["*", "localhost:3000", "https://app.example.com/", "ftp://x"])
def test_a_setting_that_is_not_an_origin_is_refused_at_start(origin: str) -> None:
    with pytest.raises(ValidationError, match="is not an origin like"):
        Settings(cors_allowed_origins=[origin])
