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
# The dashboard client's additions (rleung19/ai-demo app/lib/api/churn-api.ts).
CLIENT_ENDPOINTS = ("risk-factors", "chart-data?type=distribution", "cohorts/VIP")
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
        version_id = version.id
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
                "averageRiskScoreAtRisk": (int, float),
            },
        )
        ps = expected[item["cohort"]]
        assert item["customerCount"] == len(ps)
        assert item["atRiskCount"] == sum(1 for p in ps if p >= threshold)
        if ps:
            assert item["averageRiskScore"] == pytest.approx(100 * sum(ps) / len(ps), abs=0.01)
        flagged = [p for p in ps if p >= threshold]
        if flagged:
            assert item["averageRiskScoreAtRisk"] == pytest.approx(
                100 * sum(flagged) / len(flagged), abs=0.01
            )
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
            "modelId": str,
            "modelName": str,
            "modelConfidence": float,
            "lastUpdate": str,
            "trainingStats": dict,
        },
    )
    assert mbody["modelId"] == str(version_id) and mbody["modelName"]
    assert mbody["modelConfidence"] == mbody["aucScore"] and ISO_Z.match(mbody["lastUpdate"])
    assert mbody["trainingStats"] == {
        "trainSamples": mbody["trainingSamples"],
        "testSamples": mbody["testSamples"],
        "featureCount": mbody["featureCount"],
    }
    assert mbody["modelType"] in {
        "XGBoost Binary Classification",
        "Logistic Regression",
        "Blend of XGBoost and Logistic Regression",
        "CatBoost Binary Classification",
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


def test_the_dashboard_clients_additions_answer_from_the_tenants_data(
    client: TestClient, database: Database, settings: Settings
) -> None:
    """What rleung19/ai-demo's churn-api.ts reads beyond the document: the risk distribution,
    the risk factors and a cohort's members, each recomputed here from the stored rows."""
    user = trained_churn_tenant(database, settings)
    with database.tenant_session(user.tenant_id) as session:
        version = session.scalars(
            sa.select(ModelVersion).where(
                ModelVersion.status == "active", ModelVersion.population == "subscriber"
            )
        ).one()
        threshold = float(version.threshold or 0.5)
        rows = session.execute(
            sa.select(Customer, Prediction.probability, Prediction.contributions)
            .join(Prediction, Prediction.customer_id == Customer.id)
            .where(
                Prediction.status == "ACTIVE",
                Prediction.prediction_type == "CHURN",
                Customer.churned_at.is_(None),
            )
        ).all()
        scored = [(c.external_id, c, float(p), contributions) for c, p, contributions in rows]
    at_risk = [r for r in scored if r[2] >= threshold]
    assert at_risk

    distribution = client.get("/api/kpi/churn/chart-data?type=distribution", headers=user.headers)
    assert distribution.status_code == 200
    dbody = distribution.json()
    assert (
        set(dbody) == {"chartType", "data", "lastUpdate"} and dbody["chartType"] == "distribution"
    )
    assert [d["riskRange"] for d in dbody["data"]] == [f"{10 * i}-{10 * i + 10}" for i in range(10)]
    for i, point in enumerate(dbody["data"]):
        _types(point, {"riskRange": str, "customerCount": int, "atRiskCount": int})
        # Range i holds i/10 <= p < (i+1)/10; the last one also p = 1.
        inside = [p for _, _, p, _ in scored if sum(p >= (j + 1) / 10 for j in range(9)) == i]
        assert point["customerCount"] == len(inside)
        assert point["atRiskCount"] == sum(1 for p in inside if p >= threshold)

    factors = client.get("/api/kpi/churn/risk-factors", headers=user.headers)
    assert factors.status_code == 200
    fbody = factors.json()
    assert set(fbody) == {"riskFactors", "lastUpdate"} and ISO_Z.match(fbody["lastUpdate"])
    assert fbody["riskFactors"]
    pushed: dict[str, int] = {}
    for _, _, _, contributions in at_risk:
        for name, value in (contributions or {}).get("features", {}).items():
            if value > 0:
                pushed[name] = pushed.get(name, 0) + 1
    for item in fbody["riskFactors"]:
        assert isinstance(item["riskFactor"], str) and item["riskFactor"]
        assert item["impactScore"] in {"high", "medium", "low"}
        assert item["affectedCustomers"] == pushed[item["feature"]] > 0
        assert item["primarySegment"] in {"VIP", "Regular", "New", "Dormant", "Other"}
    assert {i["feature"] for i in fbody["riskFactors"]} == set(pushed)
    assert fbody["riskFactors"][0]["impactScore"] == "high"

    # A cohort's members: the client asks for the top 3 at-risk VIPs by lifetime value.
    vip = client.get(
        "/api/kpi/churn/cohorts/VIP?limit=3&sort=ltv&atRiskOnly=true", headers=user.headers
    )
    assert vip.status_code == 200
    vbody = vip.json()
    expected = sorted(
        (r for r in at_risk if _hand_cohort(r[1], AS_OF) == "VIP"),
        key=lambda r: -(r[1].lifetime_value or 0),
    )
    assert vbody["cohort"] == "VIP" and vbody["totalCount"] == len(expected)
    assert [u["userId"] for u in vbody["users"]] == [r[0] for r in expected[:3]]
    for user_row in vbody["users"]:
        _types(user_row, {"userId": str, "churnProbability": float, "ltv": float, "atRisk": bool})
        assert user_row["atRisk"] and user_row["churnProbability"] >= round(threshold, 4) - 1e-4
    everyone = client.get("/api/kpi/churn/cohorts/at-risk?limit=1000", headers=user.headers).json()
    assert everyone["cohort"] == "At-Risk" and everyone["totalCount"] == len(at_risk)
    probabilities = [u["churnProbability"] for u in everyone["users"]]
    assert probabilities == sorted(probabilities, reverse=True)

    for bad, status in (
        ("cohorts/Gold", 404),
        ("cohorts/VIP?sort=name", 400),
        ("cohorts/VIP?limit=0", 400),
        ("cohorts/VIP?limit=ten", 400),
        ("cohorts/VIP?atRiskOnly=maybe", 400),
        ("chart-data?type=pie", 400),
    ):
        response = client.get(f"/api/kpi/churn/{bad}", headers=user.headers)
        assert response.status_code == status, bad
        assert set(response.json()) >= {"error", "message"}

    other = make_tenant_user(database, settings, slug="other")
    for endpoint in CLIENT_ENDPOINTS:
        assert client.get(f"/api/kpi/churn/{endpoint}", headers=other.headers).status_code == 503
        assert client.get(f"/api/kpi/churn/{endpoint}").status_code == 401
