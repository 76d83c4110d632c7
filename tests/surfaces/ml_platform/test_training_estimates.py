"""The document's retrain `estimatedDuration` and training-status `estimatedCompletion`:
measured from the tenant's last training of the same type, present while a job waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.settings import Settings
from propensity.surfaces.ml_platform.models_registry_eta import describe
from tests.jobs.support import own_queue
from tests.surfaces.ml_platform.helpers_monitoring import BASE, call, monitored_tenant


def test_describe_rounds_up_in_the_documents_words() -> None:
    assert describe(timedelta(seconds=20)) == "about 1 minute"
    assert describe(timedelta(seconds=130)) == "about 3 minutes"
    assert describe(timedelta(hours=2, minutes=10)) == "about 3 hours"


def test_retrain_and_training_status_estimate_from_the_last_training(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, (model_id,) = monitored_tenant(database, settings, slug="eta")
    with own_queue(settings, database):  # no consumer: the job stays queued
        before = datetime.now(UTC)
        response = client.post(
            f"{BASE}/models/{model_id}/retrain", headers=user.headers, json={"reason": "eta"}
        )
        assert response.status_code == 202, response.text
        queued = response.json()["data"]
        assert queued["estimatedDuration"].startswith("about ")
        assert queued["estimatedDurationSeconds"] >= 0
        status = call(client, user, f"/training/{queued['jobId']}/status")
    assert status["status"] == "queued"
    expected = datetime.fromisoformat(status["estimatedCompletion"].replace("Z", "+00:00"))
    assert expected >= before.replace(microsecond=0)
