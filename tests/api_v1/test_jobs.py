"""GET /api/v1/jobs/{id}, GET /api/v1/jobs, POST /api/v1/jobs/{id}/cancel."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.jobs import JobQueue, start_embedded_consumer
from propensity.models import Role
from propensity.settings import Settings
from tests.factories import TenantUser, make_tenant_user
from tests.jobs import handlers
from tests.jobs.support import enqueue, own_queue, wait_for

FIELDS = {
    "id",
    "type",
    "status",
    "stage",
    "progress",
    "total",
    "completed",
    "result",
    "error",
    "attempts",
    "createdAt",
    "startedAt",
    "finishedAt",
}


@pytest.fixture
def idle_queue(settings: Settings, database: Database) -> Iterator[JobQueue]:
    """For tests that only enqueue: no consumer, so one backend is enough."""
    with own_queue(settings, database) as q:
        yield q


@pytest.fixture
def analyst(database: Database, settings: Settings) -> TenantUser:
    return make_tenant_user(database, settings, role=Role.ANALYST)


def get(client: TestClient, user: TenantUser, path: str) -> Any:
    response = client.get(path, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_progress_is_visible_while_running_then_the_result(
    client: TestClient, cfg: Settings, database: Database, queue: JobQueue, analyst: TenantUser
) -> None:
    gate = uuid.uuid4().hex
    handlers.GATES[gate] = threading.Event()
    job_id = enqueue(database, analyst.tenant_id, "test.gated", gate=gate, echo=42)
    queued = get(client, analyst, f"/api/v1/jobs/{job_id}")
    assert set(queued) == FIELDS
    assert (queued["status"], queued["progress"], queued["startedAt"]) == ("queued", 0.0, None)

    with start_embedded_consumer(cfg, database=database, queue=queue, periodic=False):
        running = wait_for(
            lambda: (
                (body := get(client, analyst, f"/api/v1/jobs/{job_id}"))["stage"] == "halfway"
                and body
            ),
            what="progress through the API",
        )
        assert running["status"] == "running"
        assert (running["progress"], running["completed"], running["total"]) == (0.5, 1, 2)
        assert running["startedAt"] is not None and running["finishedAt"] is None
        handlers.GATES[gate].set()
        done = wait_for(
            lambda: (
                (body := get(client, analyst, f"/api/v1/jobs/{job_id}"))["status"] == "completed"
                and body
            ),
            what="completion through the API",
        )
    assert done["result"] == {"echo": 42}
    assert (done["progress"], done["attempts"], done["error"]) == (1.0, 1, None)
    assert done["finishedAt"] is not None


def test_failed_job_reports_a_readable_error(
    client: TestClient, cfg: Settings, database: Database, queue: JobQueue, analyst: TenantUser
) -> None:
    job_id = enqueue(database, analyst.tenant_id, "test.boom")
    with start_embedded_consumer(cfg, database=database, queue=queue, periodic=False):
        failed = wait_for(
            lambda: (
                (body := get(client, analyst, f"/api/v1/jobs/{job_id}"))["status"] == "failed"
                and body
            )
        )
    assert failed["error"] == "ValueError: the input file has no 'customer_id' column"
    assert failed["attempts"] == 1 and failed["result"] is None


def test_list_filters_by_status_and_type_newest_first(
    client: TestClient, database: Database, idle_queue: JobQueue, analyst: TenantUser
) -> None:
    first = enqueue(database, analyst.tenant_id, "test.noop")
    second = enqueue(database, analyst.tenant_id, "test.boom")
    third = enqueue(database, analyst.tenant_id, "test.noop")
    client.post(f"/api/v1/jobs/{second}/cancel", headers=analyst.headers)

    def ids(query: str) -> list[str]:
        return [job["id"] for job in get(client, analyst, f"/api/v1/jobs{query}")]

    assert ids("") == [third, second, first]
    assert ids("?status=queued") == [third, first]
    assert ids("?status=cancelled") == [second]
    assert ids("?type=test.noop&limit=1") == [third]
    bad = client.get("/api/v1/jobs?status=done", headers=analyst.headers)
    assert bad.status_code == 400
    assert "status must be one of" in bad.json()["error"]["message"]
    assert client.get("/api/v1/jobs?limit=0", headers=analyst.headers).status_code == 400


def test_jobs_of_another_tenant_are_not_found(
    client: TestClient, database: Database, settings: Settings, idle_queue: JobQueue
) -> None:
    owner = make_tenant_user(database, settings, slug="acme", role=Role.ADMIN)
    stranger = make_tenant_user(database, settings, slug="globex", role=Role.ADMIN)
    job_id = enqueue(database, owner.tenant_id, "test.noop")

    response = client.get(f"/api/v1/jobs/{job_id}", headers=stranger.headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "JOB_NOT_FOUND"
    cancel = client.post(f"/api/v1/jobs/{job_id}/cancel", headers=stranger.headers)
    assert cancel.status_code == 404
    assert get(client, stranger, "/api/v1/jobs") == []
    assert get(client, owner, f"/api/v1/jobs/{job_id}")["status"] == "queued"


def test_cancel_needs_the_analyst_role_and_an_unfinished_job(
    client: TestClient, database: Database, settings: Settings, idle_queue: JobQueue
) -> None:
    analyst = make_tenant_user(database, settings, slug="acme", role=Role.ANALYST)
    viewer = make_tenant_user(
        database, settings, slug="acme", role=Role.VIEWER, existing_tenant=True
    )
    job_id = enqueue(database, analyst.tenant_id, "test.noop")

    assert get(client, viewer, f"/api/v1/jobs/{job_id}")["id"] == job_id
    forbidden = client.post(f"/api/v1/jobs/{job_id}/cancel", headers=viewer.headers)
    assert forbidden.status_code == 403

    cancelled = client.post(f"/api/v1/jobs/{job_id}/cancel", headers=analyst.headers)
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["status"] == "cancelled" and body["finishedAt"] is not None
    again = client.post(f"/api/v1/jobs/{job_id}/cancel", headers=analyst.headers)
    assert again.status_code == 409
    assert again.json()["error"]["message"] == "Job is already cancelled"
    assert client.get("/api/v1/jobs/nope", headers=viewer.headers).status_code == 404
    assert client.get("/api/v1/jobs").status_code == 401
