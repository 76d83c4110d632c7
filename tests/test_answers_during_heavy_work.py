"""Nothing a client sends stops the server from answering others: while one client has the
server score a whole portfolio (RetainStream's predictions/generate, up to 9,999 customers)
and queue a training, another client's simple reads are answered within a second."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from propensity.db import Database
from propensity.migrate import upgrade
from propensity.models import Role
from propensity.settings import Settings
from propensity.tenancy.service import create_api_key, get_tenant
from propensity.training.service import train_prediction_type
from tests.factories import make_simulated_tenant
from tests.servers import serve


@pytest.fixture
def served(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if not settings.is_sqlite:
        pytest.skip("one server process tree is enough")
    home = tmp_path / "home"
    home.mkdir()
    own = Settings(_env_file=None, home=home, environment="test")  # type: ignore[call-arg]
    upgrade(own.resolved_database_url)
    database = Database(own.resolved_database_url)
    user = make_simulated_tenant(database, own, slug="busy", subscribers=2500)
    train_prediction_type(database, tenant_id=user.tenant_id, prediction_type="CHURN")
    with database.system_session() as session:
        tenant = get_tenant(session, slug_or_id="busy")
        _key, secret = create_api_key(session, tenant=tenant, name="k", role=Role.ADMIN)
    database.dispose()
    env = {"PROPENSITY_RETAINSTREAM_RATE_LIMIT": "100000/minute"}
    with serve(home, env=env) as url:
        yield url, secret


@pytest.mark.slow
def test_reads_are_answered_while_another_client_runs_heavy_work(
    served: tuple[str, str],
) -> None:
    url, key = served
    headers = {"X-API-Key": key}
    heavy_done = threading.Event()
    heavy_status: list[int] = []

    def heavy() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
            for _ in range(2):
                heavy_status.append(
                    client.post("/api/predictions/generate", json={"sample_size": 9999}).status_code
                )
            heavy_status.append(client.post("/api/model/train").status_code)
        heavy_done.set()

    worker = threading.Thread(target=heavy)
    worker.start()
    slowest = 0.0
    reads = 0
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        while not heavy_done.is_set():
            for path in ("/api/health", "/api/v1/jobs", "/api/model/status"):
                started = time.monotonic()
                assert client.get(path).status_code == 200
                slowest = max(slowest, time.monotonic() - started)
                reads += 1
            time.sleep(0.05)
    worker.join(180)
    assert heavy_status[:2] == [200, 200], heavy_status
    assert reads >= 10
    assert slowest < 1.0, slowest
