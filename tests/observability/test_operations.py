"""Liveness, readiness and Prometheus metrics: real checks against the database and queue,
route templates (never raw ids) as labels, an optional token, and one scrape adding up the
samples of every worker of `propensity serve --workers 2`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pydantic import SecretStr

from propensity.app import create_app
from propensity.db import Database
from propensity.settings import Settings
from tests.factories import make_tenant_user
from tests.servers import serve


def _sample(text: str, name: str, **labels: str) -> float | None:
    """The value of the sample `name{labels...}` in a Prometheus exposition."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and line.split(" ")[0] != name:
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_liveness_and_readiness(client: TestClient) -> None:
    assert client.get("/health/live").json() == {"status": "alive"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert {name for name, check in body["checks"].items() if check["ok"]} == {
        "database",
        "migrations",
        "queue",
    }
    # The documented health answer is unchanged.
    assert client.get("/api/health").json()["service"] == "RetainStream API"


def test_not_ready_while_the_schema_is_behind_the_code(
    client: TestClient, database: Database
) -> None:
    with database.engine.begin() as conn:
        head = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0009'"))
    try:
        ready = client.get("/health/ready")
        assert ready.status_code == 503
        migrations = ready.json()["checks"]["migrations"]
        assert migrations["ok"] is False and migrations["current"] == "0009"
        assert client.get("/health/live").status_code == 200
    finally:
        # On PostgreSQL the database outlives the test (emptied, not recreated): restore it.
        with database.engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :head"), {"head": head})


def test_metrics_label_requests_by_route_template_and_read_the_queue(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = make_tenant_user(database, settings)
    assert client.get("/api/v1/api-keys", headers=user.headers).status_code == 200
    client.get("/api/crm/accounts/987654/ml/churn-risk", headers=user.headers)
    text = client.get("/metrics").text
    assert (
        _sample(
            text,
            "propensity_request_duration_seconds_count",
            surface="native",
            route="/api/v1/api-keys",
            method="GET",
            status="2xx",
        )
        or 0
    ) >= 1
    assert 'route="/api/crm/accounts/{account_id}/ml/churn-risk"' in text
    assert "987654" not in text
    assert _sample(text, "propensity_job_queue_depth", status="queued") is not None


def test_a_metrics_token_is_required_when_configured(
    settings: Settings, database: Database
) -> None:
    guarded = settings.model_copy(update={"metrics_token": SecretStr("scrape-token-123")})
    with TestClient(create_app(guarded, database)) as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-123"})
        assert ok.status_code == 200 and "propensity_request_duration_seconds" in ok.text


@pytest.fixture
def two_workers(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    if not settings.is_sqlite:
        pytest.skip("one server process tree is enough to check the multi-process metrics")
    home = tmp_path / "home"
    with serve(home, args=("--workers", "2", "--no-consumer")) as url:
        yield url, home / "metrics"


def test_one_scrape_adds_up_every_worker(two_workers: tuple[str, Path]) -> None:
    url, folder = two_workers

    def writers() -> set[str]:
        return {path.stem.rsplit("_", 1)[-1] for path in folder.glob("*.db")}

    # A fresh connection each time; continue until both workers have answered some.
    requests = 0
    while len(writers()) < 2 and requests < 600:
        for _ in range(30):
            assert httpx.get(url + "/api/health", timeout=10).status_code == 200
        requests += 30
    assert len(writers()) >= 2, "only one worker answered"
    # Whichever worker answers the scrape, it counts every worker's requests.
    for _ in range(6):
        text = httpx.get(url + "/metrics", timeout=10).text
        counted = _sample(
            text, "propensity_request_duration_seconds_count", route="/api/health", status="2xx"
        )
        assert counted == requests
