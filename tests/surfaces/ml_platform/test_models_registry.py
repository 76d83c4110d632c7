"""The model registry endpoints: list/detail shapes, create -> train_model job -> a version
trained with the requested algorithm and hyperparameters, status and delete rules, retrain,
training status and every documented error."""

from __future__ import annotations

from typing import Any

import numpy as np
import sqlalchemy as sa
import xgboost as xgb
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.jobs import Job, start_embedded_consumer
from propensity.modeling import load_model
from propensity.models import ModelArtifact, ModelVersion, Prediction
from propensity.predictions.scoring import model_frame
from propensity.registry.service import get_version, load_artifact
from propensity.settings import Settings
from propensity.training.hyperparameters import TrainingChoices
from propensity.training.service import train_prediction_type
from tests.factories import TenantUser, make_simulated_tenant
from tests.jobs.support import own_queue, wait_for
from tests.surfaces.ml_platform.helpers_monitoring import assert_error, stranger
from tests.surfaces.ml_platform.helpers_scores import lead_ids

BASE = "/api/ml"
LEADS = 300


def send(
    client: TestClient,
    user: TenantUser,
    method: str,
    path: str,
    *,
    body: Any = None,
    expect: int = 200,
) -> Any:
    response = client.request(method, BASE + path, headers=user.headers, json=body)
    assert response.status_code == expect, response.text
    payload = response.json()
    assert payload["success"] is (expect < 400)
    return payload["data"] if expect < 400 else payload["error"]


def _jobs(database: Database, tenant_id: int) -> int:
    with database.tenant_session(tenant_id) as session:
        return int(session.scalar(sa.select(sa.func.count(Job.id))) or 0)


def _finish(client: TestClient, user: TenantUser, job_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        data = send(client, user, "GET", f"/training/{job_id}/status")
        return data if data["status"] in ("completed", "failed") else None

    return wait_for(done, timeout=240, what="the training job")


def _predict(database: Database, tenant_id: int, version_id: int) -> np.ndarray:
    with database.tenant_session(tenant_id) as session:
        version = get_version(session, version_id=version_id)
        model = load_model(load_artifact(session, version=version))
        frame = model_frame(
            session, version=version, model=model, entity_ids=None, as_of=version.created_at
        )
        return np.asarray(model.predict_proba(model.prepare(frame.frame)))  # type: ignore[union-attr]


def _deepest_leaf(database: Database, tenant_id: int, version_id: int) -> int:
    with database.tenant_session(tenant_id) as session:
        version = get_version(session, version_id=version_id)
        model = load_model(load_artifact(session, version=version))
    raw = model.engine.booster_raw  # type: ignore[union-attr]
    assert raw is not None
    dump = xgb.Booster(model_file=bytearray(raw)).get_dump()
    return max(line.count("\t") for tree in dump for line in tree.splitlines() if "leaf" in line)


def test_create_trains_with_the_requested_algorithm_hyperparameters_and_split(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = make_simulated_tenant(database, settings, slug="reg", leads=LEADS)
    spec = {
        "name": "Shallow conversion",
        "description": "depth-2 trees",
        "type": "scoring",
        "algorithm": "xgboost",
        "hyperparameters": {"maxDepth": 2, "learningRate": 0.2, "subsample": 0.9},
        "trainingConfig": {"validationSplit": 0.3},
    }
    with own_queue(settings, database) as queue:
        queued = send(client, user, "POST", "/models", body=spec, expect=202)
        assert queued["status"] == "queued" and queued["algorithm"] == "xgboost"
        pending = send(client, user, "GET", f"/training/{queued['jobId']}/status")
        assert pending["status"] == "queued" and pending["progress"] == 0.0
        assert pending["modelId"] == queued["modelId"]
        reserved = send(client, user, "GET", f"/models/{queued['modelId']}")
        assert reserved["status"] == "training" and reserved["name"] == "Shallow conversion"
        with start_embedded_consumer(settings, database=database, queue=queue, periodic=False):
            status = _finish(client, user, queued["jobId"])
    assert status["status"] == "completed", status
    assert status["progress"] == 1.0 and status["currentStage"] == "done"
    assert status["metrics"]["auc"] is not None and status["error"] is None
    assert "roc_auc" not in status["metrics"]  # the document's names, as the model detail's
    model_id = status["modelId"]
    assert model_id == queued["modelId"]
    data = send(client, user, "GET", f"/models/{model_id}")
    assert data["name"] == "Shallow conversion" and data["type"] == "scoring"
    assert data["algorithm"] == "xgboost" and data["status"] == "inactive"
    assert data["framework"] == "xgboost"
    assert data["hyperparameters"]["maxDepth"] == 2
    assert data["hyperparameters"]["learningRate"] == 0.2
    assert data["hyperparameters"]["subsample"] == 0.9
    assert "trainAccuracy" not in data["metrics"]
    assert 0 <= data["metrics"]["testAccuracy"] <= 1 and data["metrics"]["auc"] is not None
    training = data["trainingData"]
    assert training["testSamples"] == int(np.ceil(0.3 * training["totalSamples"]))
    assert training["trainSamples"] + training["testSamples"] == training["totalSamples"]
    assert set(data["featureImportance"]) and data["featureImportance"]
    # The saved booster really is depth 2 (a leaf's indent in the dump is its depth) ...
    assert _deepest_leaf(database, user.tenant_id, int(model_id)) == 2
    # ... and predicts differently from XGBoost's default settings on the same data and seed
    # (automatic selection may pick another family).
    default = train_prediction_type(
        database,
        tenant_id=user.tenant_id,
        prediction_type="CONVERSION",
        activate_when_done=False,
        choices=TrainingChoices(family="xgboost"),
    )
    tuned_p = _predict(database, user.tenant_id, int(model_id))
    default_p = _predict(database, user.tenant_id, default.version_id)
    assert tuned_p.shape == default_p.shape and not np.allclose(tuned_p, default_p)
    assert _deepest_leaf(database, user.tenant_id, default.version_id) > 2


def test_bad_specs_are_400_naming_what_to_fix_and_queue_nothing(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = make_simulated_tenant(database, settings, slug="bad", leads=0)
    before = _jobs(database, user.tenant_id)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"type": "scoring", "algorithm": "neural_network"}, "algorithm"),
        ({"type": "scoring", "hyperparameters": {"maxDepth": 50}}, "hyperparameters.maxDepth"),
        ({"type": "scoring", "hyperparameters": {"learningRate": 0.001}}, "hyperparameters."),
        ({"type": "scoring", "hyperparameters": {"layers": [64, 32]}}, "hyperparameters"),
        ({"type": "scoring", "algorithm": "xgboost", "hyperparameters": {"C": 1}}, "hyper"),
        ({"type": "regression"}, "target.predictionType"),
        ({"type": "regression", "target": {"predictionType": "CHURN"}}, "target.predictionType"),
        (
            {
                "type": "regression",
                "target": {"predictionType": "TIME_TO_CLOSE"},
                "algorithm": "ridge",
            },
            "algorithm",
        ),
        ({"type": "classification", "target": {"kind": "planet"}}, "target.kind"),
        ({"type": "scoring", "trainingConfig": {"validationSplit": 0.9}}, "trainingConfig."),
        ({"type": "forecasting"}, "type"),
    ]
    for body, field in cases:
        error = send(client, user, "POST", "/models", body=body, expect=400)
        assert_error(error, "VALIDATION_ERROR")
        assert str(error["details"]["field"]).startswith(field), (body, error)
    refused = send(
        client,
        user,
        "POST",
        "/models",
        body={"type": "scoring", "algorithm": "neural_network"},
        expect=400,
    )
    assert "xgboost" in refused["message"] and "logistic_regression" in refused["message"]
    assert refused["details"]["supported"] == ["auto", "xgboost", "logistic_regression", "blend"]
    depth = send(
        client,
        user,
        "POST",
        "/models",
        body={"type": "scoring", "hyperparameters": {"maxDepth": 50}},
        expect=400,
    )
    assert depth["details"]["min"] == 1 and depth["details"]["max"] == 10
    assert _jobs(database, user.tenant_id) == before
    with database.tenant_session(user.tenant_id) as session:
        assert session.scalar(sa.select(sa.func.count(ModelVersion.id))) == 0


def _two_versions(database: Database, settings: Settings, slug: str) -> tuple[TenantUser, int, int]:
    """A lead tenant with an inactive v1 and an active v2 (different seeds)."""
    user = make_simulated_tenant(database, settings, slug=slug, leads=LEADS)
    first = train_prediction_type(
        database, tenant_id=user.tenant_id, prediction_type="CONVERSION", seed=0
    )
    second = train_prediction_type(
        database, tenant_id=user.tenant_id, prediction_type="CONVERSION", seed=1
    )
    return user, first.version_id, second.version_id


def test_list_detail_status_delete_and_retrain(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, old, new = _two_versions(database, settings, "life")
    listed = client.get(f"{BASE}/models", headers=user.headers, params={"limit": 1}).json()
    assert listed["pagination"] == {"page": 1, "limit": 1, "total": 2, "totalPages": 2}
    assert [m["id"] for m in listed["data"]] == [str(new)]
    assert listed["data"][0]["type"] == "scoring" and listed["data"][0]["status"] == "active"
    active = send(client, user, "GET", "/models?status=active&type=scoring")
    assert [m["id"] for m in active] == [str(new)]
    assert send(client, user, "GET", "/models?type=classification") == []
    assert_error(
        send(client, user, "GET", "/models?status=sleeping", expect=400), "VALIDATION_ERROR"
    )
    assert_error(send(client, user, "GET", "/models?type=neural", expect=400), "VALIDATION_ERROR")

    # Status rules: an active model cannot be retired; retired is final.
    conflict = send(
        client, user, "PUT", f"/models/{new}/status", body={"status": "retired"}, expect=409
    )
    assert_error(conflict, "INVALID_STATUS_TRANSITION")
    assert conflict["details"]["allowed"] == ["inactive"]
    reason = "Better held-out AUC"
    changed = send(
        client, user, "PUT", f"/models/{old}/status", body={"status": "active", "reason": reason}
    )
    assert changed["status"] == "active" and changed["statusHistory"][-1]["reason"] == reason
    assert send(client, user, "GET", f"/models/{new}")["status"] == "inactive"
    assert_error(
        send(client, user, "PUT", f"/models/{old}/status", body={"status": "on"}, expect=400),
        "VALIDATION_ERROR",
    )
    # Only models that are not active can be deleted; the artifact goes with the version.
    assert_error(send(client, user, "DELETE", f"/models/{old}", expect=409), "MODEL_IN_USE")
    # A lead scored on request by the model about to be deleted: after the delete its answer
    # comes afresh from the active model, never from a cached prediction with no model.
    lead = lead_ids(database, user.tenant_id)[0]
    asked = send(client, user, "GET", f"/leads/{lead}/score?model={new}&refresh=true")
    assert asked["modelVersion"] == send(client, user, "GET", f"/models/{new}")["version"]
    assert send(client, user, "DELETE", f"/models/{new}")["deleted"] is True
    with database.tenant_session(user.tenant_id) as session:
        orphans = session.scalar(
            sa.select(sa.func.count()).where(
                Prediction.model_version_id.is_(None), Prediction.status == "ACTIVE"
            )
        )
        assert orphans == 0  # lead-ml's latest-prediction read would serve it with no model
    after = send(client, user, "GET", f"/leads/{lead}/score")
    assert after["cached"] is False
    assert after["modelVersion"] == send(client, user, "GET", f"/models/{old}")["version"]
    assert_error(send(client, user, "GET", f"/models/{new}", expect=404), "MODEL_NOT_FOUND")
    with database.tenant_session(user.tenant_id) as session:
        assert (
            session.scalar(sa.select(sa.func.count()).where(ModelArtifact.model_version_id == new))
            == 0
        )

    with own_queue(settings, database) as queue:
        queued = send(
            client, user, "POST", f"/models/{old}/retrain", body={"reason": "drift"}, expect=202
        )
        assert queued["modelId"] == str(old) and queued["status"] == "queued"
        assert queued["queuedAt"].endswith("Z") and queued["jobId"]
        with start_embedded_consumer(settings, database=database, queue=queue, periodic=False):
            status = _finish(client, user, queued["jobId"])
    assert status["status"] == "completed", status
    assert status["modelId"] == queued["newModelId"] != str(old)
    retrained = send(client, user, "GET", f"/models/{status['modelId']}")
    assert retrained["type"] == "scoring" and retrained["status"] == "inactive"
    assert "drift" in retrained["description"]


def test_errors_for_unknown_models_other_tenants_jobs_and_failed_training(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = make_simulated_tenant(database, settings, slug="tiny", leads=12)
    missing = send(client, user, "GET", "/models/999999", expect=404)
    assert_error(missing, "MODEL_NOT_FOUND")
    assert missing["details"] == {"modelId": "999999"}
    for method, path in (
        ("PUT", "/models/abc/status"),
        ("DELETE", "/models/424242"),
        ("POST", "/models/424242/retrain"),
    ):
        body = {"status": "active"} if method == "PUT" else None
        assert_error(send(client, user, method, path, body=body, expect=404), "MODEL_NOT_FOUND")
    with own_queue(settings, database) as queue:
        queued = send(client, user, "POST", "/models", body={"type": "scoring"}, expect=202)
        other = stranger(database, settings)
        hidden = send(client, other, "GET", f"/training/{queued['jobId']}/status", expect=404)
        assert hidden["code"] == "JOB_NOT_FOUND" and hidden["details"] == {"jobId": queued["jobId"]}
        with start_embedded_consumer(settings, database=database, queue=queue, periodic=False):
            status = _finish(client, user, queued["jobId"])
    assert status["status"] == "failed"
    error = status["error"]
    assert error["code"] == "MODEL_TRAINING_FAILED"
    assert error["message"] == "Model training failed due to insufficient data"
    assert error["details"]["actualSamples"] <= 12 and error["details"]["minSamples"] > 12
    assert error["details"]["reason"]
    with database.tenant_session(user.tenant_id) as session:
        failed = session.scalars(sa.select(ModelVersion)).one()
    assert send(client, user, "GET", f"/models/{failed.id}")["status"] == "failed"
