"""`GET /api/ml/features` and `GET /api/ml/models/{modelId}/feature-importance`: the document's
keys and types, values from the stored statistics and the model, errors and tenant isolation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.models import Lead, ModelVersion
from propensity.settings import Settings
from tests.surfaces.ml_platform.helpers_monitoring import (
    assert_error,
    call,
    monitored_tenant,
    stranger,
)


def test_features_from_the_active_models_statistics(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, (model_id,) = monitored_tenant(database, settings)
    with database.tenant_session(user.tenant_id) as session:
        version = session.get(ModelVersion, model_id)
        assert version is not None
        stats, importance = dict(version.feature_stats), dict(version.feature_importance)
    data = call(client, user, "/features")
    assert {f["name"] for f in data} == set(stats)
    shares = [f["importance"] for f in data]
    assert shares == sorted(shares, reverse=True)  # most important first
    by_name = {f["name"]: f for f in data}
    budget = by_name["budget"]
    assert budget["type"] == "numeric" and budget["description"]
    assert budget["range"] == [
        pytest.approx(stats["budget"]["min"]),
        pytest.approx(stats["budget"]["max"]),
    ]
    assert budget["importance"] == pytest.approx(importance["budget"], abs=1e-6)
    assert budget["missingRate"] == pytest.approx(stats["budget"]["missing_rate"], abs=1e-6)
    assert {"mean", "std", "skewness", "bins"} <= set(budget["distribution"])
    assert sum(b["proportion"] for b in budget["distribution"]["bins"]) == pytest.approx(
        1.0, abs=1e-4
    )
    source = by_name["source"]
    assert source["type"] == "categorical" and source["categories"]
    assert not any(c.startswith("__") for c in source["categories"])
    assert sum(f["importance"] for f in data) == pytest.approx(1.0, abs=1e-3)
    for feature in data:
        assert {"name", "type", "description", "importance", "missingRate", "category"} <= set(
            feature
        )
        assert feature["models"][0]["modelId"] == str(model_id)
    # Another tenant has no models: no features, and never this tenant's.
    assert call(client, stranger(database, settings), "/features") == []


def test_feature_importance_global_local_and_shap(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, (model_id,) = monitored_tenant(database, settings)
    with database.tenant_session(user.tenant_id) as session:
        leads = session.scalars(sa.select(Lead.id).order_by(Lead.id).limit(2)).all()
        stored = dict(session.get(ModelVersion, model_id).feature_importance)  # type: ignore[union-attr]
    path = f"/models/{model_id}/feature-importance"
    plain = call(client, user, path)
    assert plain["modelId"] == str(model_id)
    assert plain["globalImportance"] == {k: round(v, 6) for k, v in stored.items()}
    assert plain["localImportance"] == {} and plain["shapValues"] == {}

    data = call(client, user, path, params={"leadIds": ",".join(str(i) for i in leads)})
    assert set(data["localImportance"]) == {f"lead_{i}" for i in leads}
    for key, shares in data["localImportance"].items():
        assert set(shares) == set(stored)
        assert sum(shares.values()) == pytest.approx(1.0, abs=1e-4)
        shap = data["shapValues"][key]
        total = sum(abs(v) for v in shap.values())
        for name, value in shap.items():
            assert shares[name] == pytest.approx(abs(value) / total, abs=1e-5)
    # Two different leads are explained differently.
    first, second = (data["shapValues"][f"lead_{i}"] for i in leads)
    assert first != second

    assert_error(
        call(client, user, path, params={"leadIds": "1,x"}, expect=400), "VALIDATION_ERROR"
    )
    call(client, user, path, params={"leadIds": "99999999"}, expect=404)
    assert_error(
        call(client, user, "/models/5555/feature-importance", expect=404), "MODEL_NOT_FOUND"
    )
    assert_error(call(client, stranger(database, settings), path, expect=404), "MODEL_NOT_FOUND")
