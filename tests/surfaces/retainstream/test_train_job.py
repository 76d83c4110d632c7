"""POST /api/model/train trains on a worker, as a job: it answers once the job has finished
(tests/surfaces/retainstream/test_churn_contract.py), and after a bounded wait with 202 and
the job to follow, never holding the request for the whole training."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

import propensity.surfaces.retainstream.model as model_routes
from propensity.db import Database
from propensity.jobs import bind_queue, unbind_queue
from propensity.jobs.queue import JobQueue
from propensity.settings import Settings
from tests.factories import make_tenant_user


def test_past_the_wait_the_answer_is_202_with_the_job(
    client: TestClient, database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_routes, "TRAIN_WAIT_SECONDS", 0.5)
    admin = make_tenant_user(database, settings)
    # A queue nobody consumes: the job stays queued.
    bind_queue(database, JobQueue(settings, database))
    try:
        response = client.post("/api/model/train", headers=admin.headers)
    finally:
        unbind_queue(database)
    assert response.status_code == 202
    body = response.json()
    assert body["success"] is True and body["message"] == "Model training is still running"
    job = client.get(f"/api/v1/jobs/{body['data']['jobId']}", headers=admin.headers).json()
    assert job["type"] == "train_model" and job["status"] == "queued"
