"""Two processes on one SQLite file: a 150,000-row import in one while the other serves
API-key reads. Reads never wait for the import's write lock (they write nothing), so every
read is answered, none is a 500, and none waits for the import to finish."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from propensity.crm.service import import_frame
from propensity.db import Database
from propensity.migrate import upgrade
from propensity.models import Role
from propensity.settings import Settings
from propensity.tenancy.service import create_api_key, create_tenant
from tests.servers import serve

ROWS = 150_000  # the issue asks for 50,000; three times that widens the margin


@pytest.fixture
def served_home(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    if not settings.is_sqlite:
        pytest.skip("SQLite's single writer")
    home = tmp_path / "home"
    home.mkdir()
    own = Settings(_env_file=None, home=home, environment="test")  # type: ignore[call-arg]
    upgrade(own.resolved_database_url)
    with serve(home, args=("--no-consumer",)) as url:
        yield url, own


def test_reads_are_answered_while_another_process_imports(
    served_home: tuple[str, Settings],
) -> None:
    url, settings = served_home
    database = Database(settings.resolved_database_url)
    with database.system_session() as session:
        tenant = create_tenant(session, slug="busy")
        _key, secret = create_api_key(session, tenant=tenant, name="reader", role=Role.VIEWER)
        tenant_id = tenant.id
    headers = {"X-API-Key": secret}
    assert httpx.get(url + "/api/v1/jobs", headers=headers, timeout=10).status_code == 200

    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(500)], "kind": "subscriber"})
    with database.tenant_session(tenant_id) as session:
        import_frame(session, kind="customers", frame=customers)
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(ROWS)],
            "customer_id": [f"c{i % 500}" for i in range(ROWS)],
            "type": "login",
            "occurred_at": pd.Timestamp("2026-01-01", tz="UTC")
            + pd.to_timedelta(range(ROWS), unit="m"),
        }
    )
    importing = threading.Event()
    finished = threading.Event()

    took: list[float] = []

    def run_import() -> None:
        with database.tenant_session(tenant_id) as session:
            importing.set()
            started = time.monotonic()
            import_frame(session, kind="events", frame=events)
        took.append(time.monotonic() - started)
        finished.set()

    worker = threading.Thread(target=run_import)
    worker.start()
    assert importing.wait(10)
    statuses: list[int] = []
    slowest = 0.0
    during = 0
    while not finished.is_set():
        started = time.monotonic()
        response = httpx.get(url + "/api/v1/jobs", headers=headers, timeout=30)
        slowest = max(slowest, time.monotonic() - started)
        statuses.append(response.status_code)
        during += not finished.is_set()
        time.sleep(0.02)
    worker.join(60)
    database.dispose()
    assert took and took[0] > 0.3, "the import was too short to overlap reads"
    assert set(statuses) == {200}
    # Answered while the import held the write lock, not after it: a read waiting for the
    # lock would take about as long as the import.
    assert slowest < took[0] * 0.6, (slowest, took[0])
    assert during >= 3
