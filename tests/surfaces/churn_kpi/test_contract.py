"""Contract tests for spec/churn-kpi.md: every endpoint, its keys and types, and its errors,
on a tenant with a real trained subscriber churn model."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.models import Customer, ModelVersion, Prediction
from propensity.portfolio.service import record_portfolio_snapshot
from propensity.settings import Settings
from tests.factories import make_tenant_user
from tests.portfolio.trained import AS_OF, trained_churn_tenant

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
ENDPOINTS = ("summary", "cohorts", "metrics", "chart-data")
UNAVAILABLE = {
    "summary": "Unable to connect to database or load model",
    "cohorts": "Unable to load cohort data",
    "metrics": "Unable to load model metrics",
    "chart-data": "Unable to load chart data",
}
INVALID_PERIOD = "Invalid period parameter. Use: 7d, 30d, 7w, 12w, 6m, 1y"


def _types(body: dict[str, object], spec: dict[str, type | tuple[type, ...]]) -> None:
    assert set(body) == set(spec)
    for key, kind in spec.items():
        assert isinstance(body[key], kind), (key, body[key])
        assert not isinstance(body[key], bool) or kind is bool, key


def _hand_cohort(c: Customer, as_of: datetime) -> str | None:
    """The document's rules written out independently of the service."""
    if (c.lifetime_value or 0) > 5000 or c.affinity_card:
        return "VIP"
    if c.membership_years is not None and c.membership_years < 1:
        return "New"
    days = None
    if c.last_purchase_at is not None and c.last_purchase_at <= as_of:
        days = (as_of - c.last_purchase_at).total_seconds() / 86400
    recent = days is not None and days <= 90
    if (c.total_purchases or 0) >= 2 and recent and (c.login_frequency or 0) > 0:
        return "Regular"
    if not recent or (c.login_frequency or 0) == 0:
        return "Dormant"
    return None


def test_every_endpoint_answers_from_the_tenants_data(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_churn_tenant(database, settings)
    with database.tenant_session(user.tenant_id) as session:
        version = session.scalars(
            sa.select(ModelVersion).where(
                ModelVersion.status == "active", ModelVersion.population == "subscriber"
            )
        ).one()
        threshold = version.threshold
        assert threshold is not None
        rows = session.execute(
            sa.select(Customer, Prediction.probability)
            .join(Prediction, Prediction.customer_id == Customer.id)
            .where(
                Prediction.status == "ACTIVE",
                Prediction.prediction_type == "CHURN",
                Customer.churned_at.is_(None),
            )
        ).all()
        auc, metrics, specs = version.metrics["roc_auc"], version.metrics, version.feature_specs
    scored = [(c, float(p)) for c, p in rows if p is not None]
    assert len(scored) == len(rows)
    probabilities = [p for _, p in scored]
    at_risk = [(c, p) for c, p in scored if p >= threshold]

    summary = client.get("/api/kpi/churn/summary", headers=user.headers)
    assert summary.status_code == 200
    body = summary.json()
    _types(
        body,
        {
            "atRiskCount": int,
            "totalCustomers": int,
            "atRiskPercentage": (int, float),
            "averageRiskScore": (int, float),
            "totalLTVAtRisk": (int, float),
            "modelConfidence": (int, float),
            "lastUpdate": str,
            "modelVersion": str,
        },
    )
    assert body["totalCustomers"] == len(rows) > 0
    assert body["atRiskCount"] == len(at_risk) > 0
    assert body["atRiskPercentage"] == pytest.approx(100 * len(at_risk) / len(rows), abs=0.01)
    assert body["averageRiskScore"] == pytest.approx(100 * sum(probabilities) / len(rows), abs=0.01)
    assert body["totalLTVAtRisk"] == pytest.approx(
        sum(c.lifetime_value or 0 for c, _ in at_risk), abs=0.01
    )
    assert body["modelConfidence"] == pytest.approx(auc, abs=1e-4)
    assert body["modelVersion"] == "v1"
    assert body["lastUpdate"] == "2026-06-01T12:00:00Z"

    cohorts = client.get("/api/kpi/churn/cohorts", headers=user.headers)
    assert cohorts.status_code == 200
    cbody = cohorts.json()
    assert set(cbody) == {"cohorts", "lastUpdate"} and ISO_Z.match(cbody["lastUpdate"])
    names = [c["cohort"] for c in cbody["cohorts"]]
    assert names == ["VIP", "Regular", "New", "Dormant", "At-Risk"]
    expected: dict[str, list[float]] = {name: [] for name in names}
    for c, p in scored:
        cohort = _hand_cohort(c, AS_OF)
        if cohort:
            expected[cohort].append(p)
        if p >= threshold:
            expected["At-Risk"].append(p)
    for item in cbody["cohorts"]:
        _types(
            item,
            {
                "cohort": str,
                "customerCount": int,
                "atRiskCount": int,
                "atRiskPercentage": (int, float),
                "averageRiskScore": (int, float),
                "ltvAtRisk": (int, float),
            },
        )
        ps = expected[item["cohort"]]
        assert item["customerCount"] == len(ps)
        assert item["atRiskCount"] == sum(1 for p in ps if p >= threshold)
        if ps:
            assert item["averageRiskScore"] == pytest.approx(100 * sum(ps) / len(ps), abs=0.01)
    assert sum(1 for n in names[:4] if expected[n]) >= 2

    m = client.get("/api/kpi/churn/metrics", headers=user.headers)
    assert m.status_code == 200
    mbody = m.json()
    _types(
        mbody,
        {
            "modelType": str,
            "modelVersion": str,
            "aucScore": float,
            "accuracy": float,
            "precision": float,
            "recall": float,
            "f1Score": float,
            "optimalThreshold": float,
            "trainingDate": str,
            "trainingSamples": int,
            "testSamples": int,
            "featureCount": int,
            "status": str,
            "isProduction": bool,
        },
    )
    assert mbody["modelType"] in {
        "XGBoost Binary Classification",
        "Logistic Regression",
        "Blend of XGBoost and Logistic Regression",
    }
    assert mbody["aucScore"] == pytest.approx(auc, abs=1e-4)
    assert mbody["f1Score"] == pytest.approx(metrics["f1"], abs=1e-4)
    assert mbody["optimalThreshold"] == pytest.approx(threshold, abs=1e-4)
    assert mbody["testSamples"] == metrics["rows"] > 0
    assert mbody["trainingSamples"] > 0
    assert mbody["featureCount"] == len(specs) > 0
    assert ISO_Z.match(mbody["trainingDate"])
    assert (mbody["status"], mbody["isProduction"], mbody["modelVersion"]) == ("ACTIVE", True, "v1")

    # Chart data: no history yet is an empty series, never a fabricated one.
    empty = client.get("/api/kpi/churn/chart-data", headers=user.headers)
    assert empty.status_code == 200
    assert empty.json()["riskScoreTrend"] == [] and empty.json()["period"] == "7w"

    with database.tenant_session(user.tenant_id) as session:
        record_portfolio_snapshot(session, as_of=AS_OF - timedelta(days=7))
        record_portfolio_snapshot(session, as_of=AS_OF)
    chart = client.get("/api/kpi/churn/chart-data?period=12w", headers=user.headers)
    assert chart.status_code == 200
    chbody = chart.json()
    assert set(chbody) == {"riskScoreTrend", "cohortDistribution", "period", "lastUpdate"}
    assert chbody["period"] == "12w" and chbody["lastUpdate"] == "2026-06-01T12:00:00Z"
    assert [p["date"] for p in chbody["riskScoreTrend"]] == ["2026-05-25", "2026-06-01"]
    newest = chbody["riskScoreTrend"][-1]
    assert set(newest) == {"date", "averageRiskScore", "atRiskCount", "totalCustomers"}
    assert newest["atRiskCount"] == body["atRiskCount"]
    assert newest["totalCustomers"] == body["totalCustomers"]
    assert [p["date"] for p in chbody["cohortDistribution"]] == ["2026-05-25", "2026-06-01"]
    counts = chbody["cohortDistribution"][-1]["cohorts"]
    assert counts == {n: len(expected[n]) for n in ("VIP", "Regular", "New", "Dormant")}
    # A daily window of 7 days still holds both; the period parameter is echoed.
    daily = client.get("/api/kpi/churn/chart-data?period=7d", headers=user.headers).json()
    assert len(daily["riskScoreTrend"]) == 1 and daily["period"] == "7d"

    # Tenant isolation: another tenant sees none of this tenant's figures.
    other = make_tenant_user(database, settings, slug="other")
    for endpoint in ENDPOINTS:
        response = client.get(f"/api/kpi/churn/{endpoint}", headers=other.headers)
        assert response.status_code == 503


@pytest.mark.parametrize("period", ["", "8w", "1d", "7W", "year"])
def test_an_invalid_period_is_the_documented_400(
    client: TestClient, database: Database, settings: Settings, period: str
) -> None:
    user = make_tenant_user(database, settings)
    response = client.get(f"/api/kpi/churn/chart-data?period={period}", headers=user.headers)
    assert response.status_code == 400
    assert response.json() == {"error": "Bad request", "message": INVALID_PERIOD}


def test_without_a_trained_model_every_endpoint_is_the_503_fallback(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = make_tenant_user(database, settings)
    for endpoint in ENDPOINTS:
        response = client.get(f"/api/kpi/churn/{endpoint}", headers=user.headers)
        assert response.status_code == 503
        assert response.json() == {
            "error": "Service unavailable",
            "message": UNAVAILABLE[endpoint],
            "fallback": True,
        }


def test_tenant_data_requires_a_token(client: TestClient) -> None:
    for endpoint in ENDPOINTS:
        response = client.get(f"/api/kpi/churn/{endpoint}")
        assert response.status_code == 401
        assert response.json()["error"] == "Unauthorized"
