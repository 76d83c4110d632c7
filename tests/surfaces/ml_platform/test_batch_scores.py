"""`POST /api/ml/leads/batch-score` runs the real scoring job; `GET /api/ml/batch/{jobId}/
results` reports what that job stored, per page, with the documented summary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.jobs import Job, JobQueue, start_embedded_consumer
from propensity.models import Prediction
from propensity.settings import Settings
from propensity.surfaces.ml_platform.batch_scores import QUEUE_PRIORITY, estimated_completion
from tests.factories import TenantUser, make_simulated_tenant
from tests.jobs.support import own_queue, wait_for
from tests.surfaces.ml_platform.helpers_scores import call, error_of, lead_ids, trained_leads


def _results(client: TestClient, user: TenantUser, job_id: str, **params: Any) -> Any:
    return call(client, user, "GET", f"/batch/{job_id}/results", params=params)


def _finished(client: TestClient, user: TenantUser, job_id: str) -> Any:
    def probe() -> Any:
        body = _results(client, user, job_id)
        return body if body["data"]["status"] != "processing" else None

    return wait_for(probe, timeout=120, what="the batch-score job")


def test_batch_score_runs_the_job_and_reports_its_predictions(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_leads(database, settings)
    other = make_simulated_tenant(database, settings, slug="other", leads=20, seed=3)
    mine = lead_ids(database, user.tenant_id)[:4]
    theirs = lead_ids(database, other.tenant_id, open_only=False)[0]
    requested = [mine[0], theirs, *mine[1:]]
    queue: JobQueue
    with own_queue(settings, database) as queue:
        before = datetime.now().astimezone()
        queued = call(
            client,
            user,
            "POST",
            "/leads/batch-score",
            json={"leadIds": requested, "priority": "high"},
            expect=202,
        )["data"]
        assert {"jobId", "status", "estimatedCompletion", "totalLeads", "completed"} <= set(queued)
        assert queued["status"] == "processing" and queued["completed"] == 0
        assert queued["totalLeads"] == 5
        eta = datetime.fromisoformat(queued["estimatedCompletion"].replace("Z", "+00:00"))
        assert eta >= estimated_completion(before, 4).replace(microsecond=0)
        # Another tenant does not see the job.
        hidden = client.get(f"/api/ml/batch/{queued['jobId']}/results", headers=other.headers)
        assert hidden.status_code == 404
        assert error_of(hidden.json())["code"] == "JOB_NOT_FOUND"
        assert error_of(hidden.json())["details"] == {"jobId": queued["jobId"]}
        with start_embedded_consumer(settings, database=database, queue=queue, periodic=False):
            body = _finished(client, user, queued["jobId"])
    data = body["data"]
    assert data["status"] == "completed" and data["completedAt"].endswith("Z")
    with database.tenant_session(user.tenant_id) as session:
        job = session.get(Job, queued["jobId"])
        assert job is not None and job.result is not None
        assert job.priority == QUEUE_PRIORITY["high"] > 0  # queued ahead of normal work
        as_of = datetime.fromisoformat(job.result["asOf"])
        stored = {
            int(p.lead_id or 0): p
            for p in session.scalars(
                sa.select(Prediction).where(
                    Prediction.prediction_type == "CONVERSION", Prediction.predicted_at == as_of
                )
            )
        }
    assert set(stored) == set(mine)
    assert [r["leadId"] for r in data["results"]] == requested
    for result in data["results"]:
        if result["leadId"] == theirs:
            assert result == {
                "leadId": theirs,
                "score": None,
                "confidence": None,
                "error": "Lead not found",
            }
            continue
        prediction = stored[result["leadId"]]
        assert result["error"] is None
        assert result["score"] == round(100 * float(prediction.probability or 0), 1)
        assert result["confidence"] == pytest.approx(prediction.confidence, abs=1e-3)
    summary = data["summary"]
    probabilities = [float(p.probability or 0) for p in stored.values()]
    confidences = [float(p.confidence or 0) for p in stored.values()]
    assert summary["total"] == 5 and summary["successful"] == 4 and summary["failed"] == 1
    assert summary["averageScore"] == pytest.approx(100 * sum(probabilities) / 4, abs=0.01)
    assert summary["averageConfidence"] == pytest.approx(sum(confidences) / 4, abs=1e-3)
    # Pages: the same summary, a slice of the results.
    second = _results(client, user, queued["jobId"], page=2, limit=2)
    assert [r["leadId"] for r in second["data"]["results"]] == requested[2:4]
    assert second["pagination"] == {"page": 2, "limit": 2, "total": 5, "totalPages": 3}
    assert second["data"]["summary"] == summary


def test_batch_score_errors_write_nothing(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_leads(database, settings, leads=200)
    ids = lead_ids(database, user.tenant_id)[:3]
    call(client, user, "PUT", "/config", json={"scoring": {"maxBatchSize": 2}})
    cases: list[tuple[Any, int, str]] = [
        ({"leadIds": ids}, 400, "BATCH_TOO_LARGE"),
        ({"leadIds": []}, 400, "VALIDATION_ERROR"),
        ({"leadIds": ["a"]}, 400, "VALIDATION_ERROR"),
        ({"leadIds": ids[:2], "priority": "urgent"}, 400, "VALIDATION_ERROR"),
        ({"leadIds": ids[:2], "model": "v42"}, 404, "MODEL_NOT_FOUND"),
        ([1, 2], 400, "VALIDATION_ERROR"),
    ]
    for body, status, code in cases:
        response = client.post("/api/ml/leads/batch-score", headers=user.headers, json=body)
        assert response.status_code == status, (body, response.text)
        assert error_of(response.json())["code"] == code
    too_many = client.post("/api/ml/leads/batch-score", headers=user.headers, json=cases[0][0])
    assert error_of(too_many.json())["details"]["maxBatchSize"] == 2
    assert "2" in error_of(too_many.json())["message"]
    with database.tenant_session(user.tenant_id) as session:
        assert session.scalar(sa.select(sa.func.count(Job.id))) == 0
    missing = client.get("/api/ml/batch/no-such-job/results", headers=user.headers)
    assert missing.status_code == 404
    assert error_of(missing.json())["code"] == "JOB_NOT_FOUND"
    assert error_of(missing.json())["details"] == {"jobId": "no-such-job"}
