"""Overload is an answer, not a stall: beyond a worker's admission limit a request gets 503
SERVER_BUSY with Retry-After at once, in its surface's envelope (health checks are still
answered), and SQLite's write lock held past the busy timeout is a 503, not a 500."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

import propensity.db
from propensity.app import create_app
from propensity.db import Database
from propensity.settings import Settings
from tests.factories import make_tenant_user


@pytest.fixture
def busy_client(
    settings: Settings, database: Database
) -> Iterator[tuple[TestClient, threading.Event]]:
    app = create_app(settings.model_copy(update={"max_in_flight": 1}), database)
    release = threading.Event()
    entered = threading.Event()

    def slow() -> dict[str, bool]:
        entered.set()
        release.wait(10)
        return {"ok": True}

    app.add_api_route("/api/v1/slow-for-test", slow)
    with TestClient(app) as client:
        client.entered = entered  # type: ignore[attr-defined]
        yield client, release
        release.set()


def test_beyond_the_admission_limit_requests_are_refused_at_once(
    busy_client: tuple[TestClient, threading.Event], database: Database, settings: Settings
) -> None:
    client, release = busy_client
    user = make_tenant_user(database, settings)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(client.get, "/api/v1/slow-for-test")
        assert client.entered.wait(5)  # type: ignore[attr-defined]
        refused = client.get("/api/crm/accounts/1/ml/churn-risk", headers=user.headers)
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        # The customer-success envelope: {error: message, code}.
        body = refused.json()
        assert body["code"] == "SERVER_BUSY" and "busy" in body["error"]
        native = client.get("/api/v1/api-keys", headers=user.headers)
        assert native.status_code == 503 and native.json()["error"]["code"] == "SERVER_BUSY"
        assert client.get("/api/health").status_code == 200
        release.set()
        assert first.result(10).status_code == 200
    assert client.get("/api/v1/api-keys", headers=user.headers).status_code == 200


def test_a_write_lock_held_past_the_busy_timeout_is_a_503(
    settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not settings.is_sqlite:
        pytest.skip("SQLite's single writer")
    admin = make_tenant_user(database, settings)
    monkeypatch.setattr(propensity.db, "BUSY_TIMEOUT_MS", 200)
    short = Database(settings.resolved_database_url)
    holder = sqlite3.connect(settings.resolved_database_url.removeprefix("sqlite:///"))
    try:
        holder.execute("BEGIN IMMEDIATE")
        with TestClient(create_app(settings, short)) as client:
            response = client.post("/api/v1/api-keys", json={"name": "k"}, headers=admin.headers)
        assert response.status_code == 503
        assert response.headers["retry-after"] == "2"
        assert response.json()["error"]["code"] == "SERVER_BUSY"
    finally:
        holder.rollback()
        holder.close()
        short.dispose()
