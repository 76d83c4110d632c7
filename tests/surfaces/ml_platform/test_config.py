"""`GET /api/ml/config` and `PUT /api/ml/config`: the document's shape, admin-only updates
persisted per tenant, invalid input leaving the old configuration."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.models import ModelVersion, Role
from propensity.settings import Settings
from tests.factories import make_tenant_user
from tests.surfaces.ml_platform.helpers_scores import call, colleague, error_of, trained_leads

SECTIONS = {"activeModel", "fallbackModel", "scoring", "training", "monitoring"}


def test_config_shape_and_active_model(
    client: TestClient, database: Database, settings: Settings
) -> None:
    fresh = make_tenant_user(database, settings, slug="blank")
    blank = call(client, fresh, "GET", "/config")["data"]
    assert set(blank) >= SECTIONS
    assert blank["activeModel"] is None and blank["fallbackModel"] == "rule_based"
    assert set(blank["scoring"]) == {"maxBatchSize", "timeout", "caching"}
    assert set(blank["scoring"]["caching"]) == {"enabled", "ttl", "maxSize"}
    assert set(blank["training"]) == {
        "autoRetrain",
        "retrainThreshold",
        "maxTrainingTime",
        "validationSplit",
    }
    assert set(blank["monitoring"]["alertThresholds"]) == {"accuracyDrop", "latencyIncrease"}
    user = trained_leads(database, settings, leads=200)
    trained = call(client, user, "GET", "/config")["data"]
    with database.tenant_session(user.tenant_id) as session:
        active = session.scalars(
            sa.select(ModelVersion).where(
                ModelVersion.prediction_type == "CONVERSION", ModelVersion.status == "active"
            )
        ).one()
        assert trained["activeModel"] == str(active.id)
        assert trained["activeModelVersion"] == f"v{active.version_number}"


def test_put_is_admin_only_validated_and_persisted(
    client: TestClient, database: Database, settings: Settings
) -> None:
    admin = make_tenant_user(database, settings, slug="cfg")
    before = call(client, admin, "GET", "/config")["data"]
    patch = {
        "scoring": {"maxBatchSize": 1234, "timeout": 4321},
        "monitoring": {"alertThresholds": {"accuracyDrop": 0.07}},
    }
    viewer = colleague(database, settings, admin, Role.VIEWER)
    analyst = colleague(database, settings, admin, Role.ANALYST)
    for someone in (viewer, analyst):
        response = client.put("/api/ml/config", headers=someone.headers, json=patch)
        assert response.status_code == 403, response.text
        assert error_of(response.json())["code"] == "FORBIDDEN"
    assert call(client, admin, "GET", "/config")["data"] == before
    updated = call(client, admin, "PUT", "/config", json=patch)["data"]
    assert updated["scoring"]["maxBatchSize"] == 1234 and updated["scoring"]["timeout"] == 4321
    assert updated["monitoring"]["alertThresholds"]["accuracyDrop"] == 0.07
    # Parts not sent keep their values.
    assert updated["scoring"]["caching"] == before["scoring"]["caching"]
    assert updated["training"] == before["training"]
    assert call(client, viewer, "GET", "/config")["data"] == updated
    for bad in (
        {"scoring": {"maxBatchSize": 0}},
        {"scoring": {"timeout": "fast"}},
        {"scoring": {"unknownSetting": 1}},
        [1, 2],
        {},
    ):
        response = client.put("/api/ml/config", headers=admin.headers, json=bad)
        assert response.status_code == 400, (bad, response.text)
        error = error_of(response.json())
        assert error["code"] == "VALIDATION_ERROR"
    named = client.put(
        "/api/ml/config", headers=admin.headers, json={"scoring": {"maxBatchSize": 0}}
    )
    assert "scoring.maxBatchSize" in error_of(named.json())["message"]
    assert call(client, admin, "GET", "/config")["data"] == updated
    # Another tenant's configuration is its own.
    other = make_tenant_user(database, settings, slug="cfg-other")
    assert call(client, other, "GET", "/config")["data"]["scoring"]["maxBatchSize"] == 1000


def test_get_modify_put_round_trip_of_the_whole_answer(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_leads(database, settings, leads=200)
    whole = call(client, user, "GET", "/config")["data"]
    whole["scoring"]["timeout"] = 12345
    changed = call(client, user, "PUT", "/config", json=whole)["data"]
    assert changed["scoring"]["timeout"] == 12345
    assert changed["activeModel"] == whole["activeModel"]
    # The active model is not a setting: asking to change it here says where to do it.
    response = client.put(
        "/api/ml/config", headers=user.headers, json={**whole, "activeModel": "999"}
    )
    assert response.status_code == 400, response.text
    error = error_of(response.json())
    assert error["code"] == "VALIDATION_ERROR" and error["details"]["fields"] == ["activeModel"]
    assert "status" in error["message"]
