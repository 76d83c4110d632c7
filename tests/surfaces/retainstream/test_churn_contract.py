"""Contract tests for spec/retainstream.md's dashboard, customer, prediction and model
endpoints on a simulated subscriber base with a really trained churn model. Every number is
checked against an independent count from the database."""

from __future__ import annotations

import math
import re

import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.models import Customer, ModelVersion, Prediction, Role
from propensity.settings import Settings
from tests.factories import make_simulated_tenant, make_tenant_user
from tests.surfaces.retainstream.helpers import trained_tenant

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _active(database: Database, tenant_id: int) -> list[tuple[str, float]]:
    with database.tenant_session(tenant_id) as session:
        rows = session.execute(
            sa.select(Customer.external_id, Prediction.probability)
            .join(Customer, Customer.id == Prediction.customer_id)
            .where(Prediction.status == "ACTIVE", Prediction.prediction_type == "CHURN")
        ).all()
    return [(str(e), float(p)) for e, p in rows if p is not None]


def _model(database: Database, tenant_id: int) -> ModelVersion:
    with database.tenant_session(tenant_id) as session:
        version = session.scalars(
            sa.select(ModelVersion).where(ModelVersion.status == "active")
        ).one()
        session.expunge(version)
    return version


def test_dashboard_endpoints_are_computed_from_the_predictions(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_tenant(database, settings)
    version = _model(database, user.tenant_id)
    threshold = float(version.threshold or 0.5)
    active = _active(database, user.tenant_id)
    flagged = sum(1 for _, p in active if p >= threshold)
    assert 0 < flagged < len(active)

    body = client.get("/api/dashboard/metrics", headers=user.headers).json()
    assert body["success"] is True
    data = body["data"]
    assert set(data) == {"churnRate", "predictedChurners", "modelAuc"}
    rate = data["churnRate"]
    assert set(rate) == {"current", "previous", "change"}
    assert isinstance(rate["current"], float) and 0 <= rate["current"] <= 100
    assert rate["change"] == f"{rate['current'] - rate['previous']:+.1f}%"
    churners = data["predictedChurners"]
    assert churners["count"] == flagged
    assert churners["confidence"] == f"{round(version.metrics['roc_auc'] * 100)}%"
    assert churners["change"] == "+0"  # one scoring run so far
    assert data["modelAuc"] == {
        "score": round(version.metrics["roc_auc"], 4),
        "status": "Stable",
        "version": "v1",
    }

    distribution = client.get("/api/dashboard/distribution", headers=user.headers).json()
    buckets = distribution["data"]
    assert [b["bucket"] for b in buckets] == [0.0, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0]
    assert sum(b["count"] for b in buckets) == len(active)
    starts = [0.0, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0]
    expected = [0] * len(starts)
    for _, p in active:
        expected[max(i for i, s in enumerate(starts) if p >= s)] += 1
    assert [b["count"] for b in buckets] == expected

    factors = client.get("/api/dashboard/features", headers=user.headers).json()["data"]
    assert len(factors) == 5
    assert all(set(f) == {"name", "value"} for f in factors)
    values = [f["value"] for f in factors]
    assert values == sorted(values, reverse=True)
    top_share = max(version.feature_importance.values())
    assert values[0] == round(top_share, 4)
    assert all("_" not in f["name"] for f in factors)

    run = client.post("/api/dashboard/predict", json={"sample_size": 50}, headers=user.headers)
    assert run.status_code == 200
    run_body = run.json()
    assert run_body["message"] == "Prediction run completed"
    assert run_body["data"]["predictions_generated"] == 50
    assert 0 < run_body["data"]["average_probability"] < 1
    assert ISO_Z.match(run_body["data"]["timestamp"])
    # The newest run now has a predecessor: the change is the difference of flagged counts.
    # Before this run every subscriber's newest prediction came from the first full run.
    after = client.get("/api/dashboard/metrics", headers=user.headers).json()["data"]
    now_flagged = sum(1 for _, p in _active(database, user.tenant_id) if p >= threshold)
    assert after["predictedChurners"]["count"] == now_flagged
    assert after["predictedChurners"]["change"] == f"{now_flagged - flagged:+d}"


def test_customer_endpoints_sort_paginate_and_segment(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_tenant(database, settings)
    threshold = float(_model(database, user.tenant_id).threshold or 0.5)
    active = _active(database, user.tenant_id)
    high = sorted((p for _, p in active if p >= threshold), reverse=True)

    first = client.get("/api/customers/high-risk?page=1&limit=7", headers=user.headers).json()
    assert first["success"] is True
    pagination = first["data"]["pagination"]
    assert pagination == {
        "page": 1,
        "limit": 7,
        "total": len(high),
        "pages": math.ceil(len(high) / 7),
    }
    customers = first["data"]["customers"]
    assert len(customers) == 7
    assert set(customers[0]) == {
        "user_id",
        "plan",
        "churn_probability",
        "last_activity",
        "tenure_months",
        "risk_level",
    }
    assert [c["churn_probability"] for c in customers] == [round(p, 4) for p in high[:7]]
    assert all(c["risk_level"] == "High" for c in customers)
    assert re.match(r"^\d+ (minute|hour|day|month|year)s? ago$", customers[0]["last_activity"])
    second = client.get("/api/customers/high-risk?page=2&limit=7", headers=user.headers).json()
    assert [c["churn_probability"] for c in second["data"]["customers"]] == [
        round(p, 4) for p in high[7:14]
    ]
    assert not {c["user_id"] for c in customers} & {
        c["user_id"] for c in second["data"]["customers"]
    }
    default = client.get("/api/customers/high-risk", headers=user.headers).json()
    assert default["data"]["pagination"]["limit"] == 10
    for query in ("page=0", "limit=0", "limit=101", "page=abc"):
        bad = client.get(f"/api/customers/high-risk?{query}", headers=user.headers)
        assert bad.status_code == 400, query
        assert bad.json()["success"] is False

    segments = client.post("/api/customers/segment", headers=user.headers).json()["data"]
    counts = {s["segment"]: s["count"] for s in segments["segments"]}
    assert list(counts) == ["High Risk", "Medium Risk", "Low Risk"]
    assert counts["High Risk"] == len(high)
    assert counts["Medium Risk"] == sum(1 for _, p in active if threshold / 2 <= p < threshold)
    assert sum(counts.values()) == len(active)

    riskiest = customers[0]["user_id"]
    detail = client.get(f"/api/customers/{riskiest}", headers=user.headers)
    assert detail.status_code == 200
    info = detail.json()["data"]
    assert set(info) == {
        "user_id",
        "email",
        "plan",
        "watch_time_hours",
        "subscription_age_months",
        "device_count",
        "last_login_days",
        "payment_failures",
        "tenure_months",
        "churn_probability",
        "prediction_date",
    }
    assert info["user_id"] == riskiest
    assert info["churn_probability"] == customers[0]["churn_probability"]
    assert ISO_Z.match(info["prediction_date"])
    with database.tenant_session(user.tenant_id) as session:
        row = session.scalars(sa.select(Customer).where(Customer.external_id == riskiest)).one()
        numeric_id, plan = row.id, row.plan
    assert info["plan"] == plan
    by_number = client.get(f"/api/customers/{numeric_id}", headers=user.headers).json()
    assert by_number["data"]["user_id"] == riskiest
    missing = client.get("/api/customers/usr_nobody", headers=user.headers)
    assert missing.status_code == 404
    assert missing.json() == {"success": False, "message": "Customer not found"}

    # Another tenant sees none of it.
    other = make_tenant_user(database, settings, slug="other")
    assert client.get(f"/api/customers/{riskiest}", headers=other.headers).status_code == 404
    assert client.get("/api/customers/high-risk", headers=other.headers).status_code == 503


def test_prediction_and_model_endpoints_report_the_registry(
    client: TestClient, database: Database, settings: Settings, jobs_running: None
) -> None:
    user = trained_tenant(database, settings)
    version = _model(database, user.tenant_id)
    active = _active(database, user.tenant_id)

    results = client.get("/api/predictions/results?limit=25", headers=user.headers).json()
    data = results["data"]
    assert data["total"] == len(active)
    assert len(data["predictions"]) == 25
    first = data["predictions"][0]
    assert set(first) == {"customer_id", "churn_probability", "confidence", "prediction_date"}
    assert 0 <= first["confidence"] <= 1
    assert ISO_Z.match(data["timestamp"])
    capped = client.get("/api/predictions/results?limit=5000", headers=user.headers)
    assert capped.status_code == 400

    analyst = make_tenant_user(
        database, settings, slug="sim", role=Role.ANALYST, existing_tenant=True
    )
    generated = client.post("/api/predictions/generate", json={}, headers=analyst.headers).json()
    assert generated["success"] is True
    assert generated["data"]["predictions_generated"] == 100
    assert set(generated["data"]) == {"predictions_generated", "average_probability", "timestamp"}
    assert len(_active(database, user.tenant_id)) == len(active)  # superseded, not duplicated

    performance = client.get("/api/predictions/performance", headers=user.headers).json()["data"]
    assert performance == {
        "auc": round(version.metrics["roc_auc"], 4),
        "precision": round(version.metrics["precision"], 4),
        "recall": round(version.metrics["recall"], 4),
        "f1_score": round(version.metrics["f1"], 4),
        "training_samples": version.training_summary["rows"],
        "model_version": "v1",
        "last_trained": performance["last_trained"],
    }
    assert ISO_Z.match(performance["last_trained"])

    status = client.get("/api/model/status", headers=user.headers).json()["data"]
    assert status["version"] == "v1"
    assert status["algorithm"] in {
        "XGBoost",
        "Logistic regression",
        "Blend of XGBoost and logistic regression",
        "CatBoost",
    }
    assert status["status"] == "Active"
    assert status["features"] == len(version.feature_specs)
    assert status["performance"] == {
        "improved": False,
        "previous_auc": None,
        "current_auc": round(version.metrics["roc_auc"], 4),
        "improvement": None,
    }

    features = client.get("/api/model/features", headers=user.headers).json()["data"]["features"]
    assert len(features) == len(version.feature_importance)
    assert all(set(f) == {"name", "importance"} for f in features)
    assert (
        len(
            client.get("/api/model/features?limit=3", headers=user.headers).json()["data"][
                "features"
            ]
        )
        == 3
    )

    trained = client.post("/api/model/train", headers=user.headers)
    assert trained.status_code == 200
    body = trained.json()["data"]
    assert body["message"] == "Model training completed"
    assert set(body["metrics"]) == {"auc", "precision", "recall", "f1_score", "training_samples"}
    assert body["metrics"]["training_samples"] > 0
    status = client.get("/api/model/status", headers=user.headers).json()["data"]
    assert status["version"] == "v2"
    comparison = status["performance"]
    assert comparison["previous_auc"] == round(version.metrics["roc_auc"], 4)
    assert comparison["current_auc"] == body["metrics"]["auc"]
    diff = comparison["current_auc"] - comparison["previous_auc"]
    assert comparison["improved"] is (diff > 0)
    assert comparison["improvement"].startswith(f"{diff:+.2f} (")


def test_training_with_too_little_data_is_an_error_envelope(
    client: TestClient, database: Database, settings: Settings, jobs_running: None
) -> None:
    user = make_simulated_tenant(database, settings, slug="tiny", subscribers=8)
    response = client.post("/api/model/train", headers=user.headers)
    assert response.status_code in (400, 422)
    body = response.json()
    assert body["success"] is False
    assert set(body) == {"success", "message"}
