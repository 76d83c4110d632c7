"""POST /api/model/train trains on a worker, as a job: it answers once the job has finished
(tests/surfaces/retainstream/test_churn_contract.py), and after a bounded wait with 202 and
the job to follow, never holding the request for the whole training."""

from __future__ import annotations

from fastapi.testclient import TestClient

from propensity.app import create_app
from propensity.db import Database
from propensity.jobs import bind_queue, unbind_queue
from propensity.jobs.queue import JobQueue
from propensity.settings import Settings
from tests.factories import make_tenant_user


def test_past_the_wait_the_answer_is_202_with_the_job(
    database: Database, settings: Settings
) -> None:
    admin = make_tenant_user(database, settings)
    # A queue nobody consumes: the job stays queued.
    bind_queue(database, JobQueue(settings, database))
    short = settings.model_copy(update={"retainstream_train_wait_seconds": 0.5})
    try:
        with TestClient(create_app(short, database)) as client:
            response = client.post("/api/model/train", headers=admin.headers)
            body = response.json()
            job = client.get(f"/api/v1/jobs/{body['data']['jobId']}", headers=admin.headers)
    finally:
        unbind_queue(database)
    assert response.status_code == 202
    assert body["success"] is True and body["message"] == "Model training is still running"
    assert job.json()["type"] == "train_model" and job.json()["status"] == "queued"
