"""The RetainStream rate limit comes from settings (PROPENSITY_RETAINSTREAM_RATE_LIMIT)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from propensity.app import create_app
from propensity.db import Database
from propensity.settings import Settings


def test_the_configured_limit_applies(settings: Settings, database: Database) -> None:
    limited = settings.model_copy(update={"retainstream_rate_limit": "2/minute"})
    with TestClient(create_app(limited, database)) as client:
        first, second, third = (client.get("/api/dashboard/metrics") for _ in range(3))
    # Unauthenticated, and still counted: the limit comes first.
    assert [first.status_code, second.status_code, third.status_code] == [401, 401, 429]
    assert first.headers["X-RateLimit-Remaining"] == "1"
    assert third.json()["success"] is False


def test_health_checks_are_never_limited(settings: Settings, database: Database) -> None:
    limited = settings.model_copy(update={"retainstream_rate_limit": "2/minute"})
    with TestClient(create_app(limited, database)) as client:
        answers = [client.get("/api/health") for _ in range(5)]
        assert [a.status_code for a in answers] == [200] * 5
        assert all("X-RateLimit-Remaining" not in a.headers for a in answers)
        # ... nor counted against the client's other requests.
        assert client.get("/api/dashboard/metrics").headers["X-RateLimit-Remaining"] == "1"
