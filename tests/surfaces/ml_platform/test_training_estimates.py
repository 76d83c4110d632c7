"""What create and retrain answer: the document's retrain `estimatedDuration` and
training-status `estimatedCompletion` (measured from the tenant's last training of the same
type, present while a job waits), and `notApplied` for the document's request fields that
have no effect here."""

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


def test_the_documents_request_fields_without_effect_are_named(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, (model_id,) = monitored_tenant(database, settings, slug="unused")
    with own_queue(settings, database):  # nothing trains: only the answers are checked
        retrain = client.post(
            f"{BASE}/models/{model_id}/retrain",
            headers=user.headers,
            json={
                "reason": "Performance degradation detected",
                "priority": "high",
                "dataSource": "leads_2025_q1",
                "validationSplit": 0.2,
                "hyperparameterTuning": True,
            },
        )
        create = client.post(
            f"{BASE}/models",
            headers=user.headers,
            json={
                "name": "Lead Scoring v3.0",
                "type": "scoring",
                "trainingConfig": {"validationSplit": 0.2, "earlyStopping": True},
            },
        )
        plain = client.post(f"{BASE}/models", headers=user.headers, json={"type": "scoring"})
    assert retrain.status_code == create.status_code == plain.status_code == 202
    fields = [f["field"] for f in retrain.json()["data"]["notApplied"]]
    assert fields == ["priority", "dataSource", "hyperparameterTuning"]
    assert all(f["reason"] for f in retrain.json()["data"]["notApplied"])
    assert [f["field"] for f in create.json()["data"]["notApplied"]] == [
        "trainingConfig.earlyStopping"
    ]
    assert plain.json()["data"]["notApplied"] == []
