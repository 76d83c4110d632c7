"""A client written from each of the five documents, run against a freshly built demo tenant
(`propensity demo` at a small scale): every documented field is present, of the documented
type, and non-null unless the document (or its public client, where the document allows)
lets it be null. The few nulls allowed are listed per surface with the reason."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from pydantic import SecretStr
from rich.console import Console

from propensity.app import create_app
from propensity.db import Database
from propensity.demo import default_config, run_demo
from propensity.models import Customer, Lead, LeadScoringConfig, ModelVersion
from propensity.settings import Settings
from tests.surfaces.conformance import assert_template_metadata, unexpected_nulls

PASSWORD = "conformance-pass-123"
NUMBER = (int, float)

# Nulls the documents (or the lead document's client) allow, and Propensity's additions.
ALLOWED = {
    "lead-ml": (
        # The document's full CONVERSION prediction shows predictedValue: null; a score or
        # priority has no days.
        r"\.prediction\.predictedValue",
        r"\.prediction\.predictedDays",
        # Client: avgResponseTime number | null (a lead that never answered).
        r"\.features\.engagement\.avgResponseTime",
        # Client: company / title string | null (most home buyers have neither).
        r"\.(rankings|leads)\[i\]\.(company|title)",
        r"\.prediction\.(priorityRank|priorityTier|priorityScore)",
    ),
    "customer-success": (
        # The document's prediction list shows wasAccurate: null (not judged yet).
        r"\.data\[i\]\.(wasAccurate|actualValue|validatedAt|predictedValue|probability)",
        # A health prediction has a score, not a probability (ADR 0006).
        r"\.data\.probability",
        # Status additions: the LLM's state without one configured, a model's other metric.
        r"\.llm\.(model|budget)",
        r"\.models\[i\]\.(heldOutMae|heldOutAuc)",
    ),
    "ml-platform": (
        # Additions: the requested hyperparameters (null: the trainer's default) and a
        # version's training error (null: none).
        r"\.data\.requested\..*",
        r"\.data\.error",
        # Additions: a binary model's precision and recall from validated predictions.
        r"\.data\.metrics\.(precision|recall)",
        r"\.data\.filters\..*",
        # Additions: each feature's test (null where the test does not apply) and score drift
        # (null without scored predictions to compare).
        r"\.data\.driftAnalysis\.(features\[i\]\..*|scoreDrift)",
    ),
    "churn-kpi": (),
    "retainstream": (),
}


def _check(body: Any, surface: str, what: str, *also: str) -> None:
    extra = unexpected_nulls(body, (*ALLOWED[surface], *also))
    assert extra == [], f"{surface} {what}: null where the document shows a value: {extra}"


def test_a_client_of_each_document_finds_every_field_on_the_demo(
    database: Database, settings: Settings
) -> None:
    configured = settings.model_copy(update={"demo_admin_password": SecretStr(PASSWORD)})
    result = run_demo(
        settings=configured,
        database=database,
        config=default_config(seed=5, scale=0.06, end=None),
        console=Console(quiet=True),
    )
    assert not any(s.startswith("skipped") for s in result.models.values()), result.models
    with database.tenant_session(result.tenant_id) as session:
        account = session.scalar(
            sa.select(Customer.id)
            .where(Customer.kind == "account", Customer.churned_at.is_(None))
            .where(Customer.account_type == "CUSTOMER")
            .order_by(Customer.id)
        )
        subscriber = session.scalar(
            sa.select(Customer.external_id)
            .where(Customer.kind == "subscriber", Customer.churned_at.is_(None))
            .order_by(Customer.id)
        )
        open_leads = sa.select(Lead.id).where(Lead.converted_at.is_(None), Lead.lost_at.is_(None))
        buyers = session.scalar(
            sa.select(LeadScoringConfig.id).where(LeadScoringConfig.name == "Real Estate Buyers")
        )
        buyer = session.scalar(open_leads.where(Lead.config_id == buyers).order_by(Lead.id))
        configs = session.scalars(sa.select(LeadScoringConfig.id)).all()
        models = session.scalars(sa.select(ModelVersion.id).order_by(ModelVersion.id)).all()
    assert account and subscriber and buyer and configs

    with TestClient(create_app(configured, database)) as client:
        login = client.post(
            "/api/auth/login", json={"email": result.admin_email, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        token = login.json()["data"]["token"]
        headers = {"Authorization": f"Bearer {token}", "X-Tenant-ID": str(result.tenant_id)}

        def get(path: str, **params: Any) -> Any:
            response = client.get(path, headers=headers, params=params)
            assert response.status_code == 200, (path, response.text)
            return response.json()

        def post(path: str, body: Any) -> Any:
            response = client.post(path, headers=headers, json=body)
            assert response.status_code in (200, 201, 202), (path, response.text)
            return response.json()

        _lead_ml(get, post, buyer=buyer, configs=configs)
        _customer_success(get, post, account=account)
        _ml_platform(get, post, buyer=buyer, models=models)
        _churn_kpi(get)
        _retainstream(get, subscriber=subscriber)


def _lead_ml(get: Any, post: Any, *, buyer: int, configs: list[int]) -> None:
    base = "/api/lead-scoring"
    predictions = {
        "CONVERSION": post(f"{base}/leads/{buyer}/ml/predict", {})["prediction"],
        "TIME_TO_CLOSE": post(f"{base}/leads/{buyer}/ml/predict-time", {})["prediction"],
        "SCORE": post(f"{base}/leads/{buyer}/ml/predict-score", {})["prediction"],
    }
    for kind, prediction in predictions.items():
        _check({"prediction": prediction}, "lead-ml", kind)
        assert prediction["predictionType"] == kind
        assert {"predictedValue", "predictedDays"} <= set(prediction)
        assert isinstance(prediction["probability"], float)
        assert_template_metadata(prediction["llmMetadata"])
        assert prediction["riskFactors"], kind
        for factor in prediction["riskFactors"]:
            assert factor["trend"] in {"improving", "stable", "declining"}
            assert factor["impact"] in {"high", "medium", "low"}
            value = factor["currentValue"]
            assert isinstance(value, int | float | str) and not isinstance(value, bool)
    assert isinstance(predictions["CONVERSION"]["predictedDays"], int)
    assert predictions["CONVERSION"]["predictedScoreLevel"] in {"HOT", "WARM", "COLD", "DEAD"}
    assert isinstance(predictions["TIME_TO_CLOSE"]["predictedDays"], int)
    assert set(predictions["TIME_TO_CLOSE"]["confidenceInterval"]) == {"low", "high"}
    latest = get(f"{base}/leads/{buyer}/ml/prediction")
    _check(latest, "lead-ml", "latest prediction")

    features = get(f"{base}/leads/{buyer}/ml/features")["features"]
    _check(features, "lead-ml", "features")
    engagement = features["engagement"]
    for name in ("emailOpenRate", "emailClickRate", "sequenceEngagement"):
        assert isinstance(engagement[name], NUMBER) and 0 <= engagement[name] <= 1, name
    assert isinstance(engagement["totalEngagementScore"], int)
    assert isinstance(engagement["isInActiveSequence"], bool)
    # Every lead's sequence starts with an email; the simulator numbers its steps.
    assert isinstance(engagement["currentSequenceStep"], int)
    assert engagement["currentSequenceStep"] >= 1

    for config in configs:
        ranked = get(f"{base}/{config}/ml/ranked-leads")
        _check(ranked, "lead-ml", "ranked leads")
        assert_template_metadata(ranked["llmMetadata"])
        assert ranked["rankings"] and all(
            r["priorityTier"] in {"top", "high", "medium", "low"} for r in ranked["rankings"]
        )
        _check(get(f"{base}/{config}/ml/top-leads"), "lead-ml", "top leads")
        accuracy = get(f"{base}/{config}/ml/accuracy")
        _check(accuracy, "lead-ml", "accuracy")
        assert isinstance(accuracy["accuracy"], float)
        for kind in ("CONVERSION", "TIME_TO_CLOSE"):
            judged = accuracy["byType"][kind]
            assert judged["total"] > 0 and isinstance(judged["accuracy"], float), (config, kind)
        importance = get(f"{base}/{config}/ml/feature-importance")["importance"]
        assert importance and all(
            i["category"] in {"demographic", "behavioral", "temporal", "engagement", "text"}
            for i in importance
        )


def _customer_success(get: Any, post: Any, *, account: int) -> None:
    base = "/api/crm/accounts"
    for kind in ("CHURN", "HEALTH_TREND"):
        answer = post(f"{base}/{account}/ml/predict", {"predictionType": kind})
        _check(answer, "customer-success", f"predict {kind}")
        assert_template_metadata(answer["data"]["llmMetadata"])
    churn = get(f"{base}/{account}/ml/churn-risk")
    _check(churn, "customer-success", "churn-risk")
    assert churn["data"]["riskCategory"] in {"low", "medium", "high", "critical"}
    assert churn["data"]["interventionUrgency"] in {
        "immediate",
        "this_week",
        "this_month",
        "monitor",
    }
    health = get(f"{base}/{account}/ml/health-insights")["data"]
    assert health["scoreTrajectory"] in {"improving", "stable", "declining"}
    _check(get(f"{base}/{account}/ml/health-insights"), "customer-success", "health-insights")
    _check(get(f"{base}/{account}/ml/predictions"), "customer-success", "predictions")
    _check(get(f"{base}/portfolio/ml/high-risk"), "customer-success", "high-risk")
    accuracy = get(f"{base}/portfolio/ml/accuracy")
    _check(accuracy, "customer-success", "accuracy")
    assert accuracy["data"]["validatedCount"] > 0
    stats = get(f"{base}/portfolio/ml/cta-stats")["data"]
    _check(stats, "customer-success", "cta-stats")
    # CTAs worked by the simulated CSMs: some were resolved, so the mean resolution exists.
    assert stats["completedCount"] > 0 and isinstance(stats["averageResolutionDays"], NUMBER)
    assert stats["averageResolutionDays"] > 0
    _check(get(f"{base}/portfolio/ml/status"), "customer-success", "status")


def _ml_platform(get: Any, post: Any, *, buyer: int, models: list[int]) -> None:
    score = get(f"/api/ml/leads/{buyer}/score", explain="true")["data"]
    _check({"data": score}, "ml-platform", "score")
    features = score["features"]
    assert isinstance(features["budget"], NUMBER) and features["budget"] > 0
    assert isinstance(features["timeline"], str) and isinstance(features["location"], str)
    assert isinstance(features["propertyType"], str)
    importance = score["explanation"]["featureImportance"]
    assert importance and all(isinstance(v, float) for v in importance.values())

    listed = get("/api/ml/models")
    _check(listed, "ml-platform", "models")
    for model in listed["data"]:
        assert isinstance(model["accuracy"], float), model
        assert model["type"] in {"scoring", "classification", "regression"}
        assert model["status"] in {"active", "inactive", "training", "retired"}
        if model["type"] == "classification":
            for name in ("precision", "recall", "f1Score", "auc"):
                assert isinstance(model["metrics"][name], float), (model["id"], name)
    assert len(listed["data"]) >= 10  # a previous version of each of the five
    for model_id in models:
        detail = get(f"/api/ml/models/{model_id}")
        _check(detail, "ml-platform", f"model {model_id}")
        performance = get(f"/api/ml/models/{model_id}/performance")
        metrics = performance["data"]["metrics"]
        also = []
        if not metrics["predictionCount"]:
            # No prediction in the period (a previous version): no latency to report.
            also.append(r"\.data\.(metrics\.averageLatency|performance\.p\d\dLatency)")
        _check(performance, "ml-platform", f"performance {model_id}", *also)
        # The demo's back-filling ran as scoring jobs of every type, and none failed.
        assert metrics["errorRate"] == 0.0
        # Judged outcomes when there are some, else the held-out accuracy, labelled.
        assert isinstance(metrics["accuracy"], float)
        assert metrics["accuracySource"] == (
            "validated" if metrics["validatedPredictions"] else "held-out"
        )
        if metrics["predictionCount"]:
            for name in ("p50Latency", "p95Latency"):
                assert isinstance(performance["data"]["performance"][name], NUMBER), name
            assert isinstance(metrics["averageLatency"], NUMBER)
        drift = get(f"/api/ml/models/{model_id}/drift")
        _check(drift, "ml-platform", f"drift {model_id}")
        # Every version served in the demo's history (SERVICE in demo.py) and its predictions
        # then were judged: concept drift from real outcomes, as documented.
        concept = drift["data"]["driftAnalysis"]["conceptDrift"]
        assert concept["validatedPredictions"] > 0, (model_id, concept)
        assert isinstance(concept["score"], float) and 0 <= concept["confidence"] <= 1
        assert isinstance(concept["detectedAt"], str)
        _check(
            get(f"/api/ml/models/{model_id}/feature-importance"),
            "ml-platform",
            f"feature importance {model_id}",
        )
    dashboard = get("/api/ml/analytics/dashboard")
    _check(dashboard, "ml-platform", "dashboard")
    assert isinstance(dashboard["data"]["summary"]["averageAccuracy"], float)
    assert isinstance(dashboard["data"]["summary"]["averageLatency"], NUMBER)
    _check(get("/api/ml/features"), "ml-platform", "features")
    _check(
        post("/api/ml/predict/conversion", {"leadIds": [buyer], "includeFactors": True}),
        "ml-platform",
        "conversion",
    )


def _churn_kpi(get: Any) -> None:
    for endpoint in ("summary", "cohorts", "metrics", "chart-data", "risk-factors"):
        _check(get(f"/api/kpi/churn/{endpoint}"), "churn-kpi", endpoint)
    cohorts = get("/api/kpi/churn/cohorts")["cohorts"]
    assert all(isinstance(c["averageRiskScoreAtRisk"], NUMBER) for c in cohorts)
    metrics = get("/api/kpi/churn/metrics")
    assert set(metrics["trainingStats"]) == {"trainSamples", "testSamples", "featureCount"}
    assert isinstance(metrics["modelId"], str) and isinstance(metrics["modelConfidence"], float)
    distribution = get("/api/kpi/churn/chart-data", type="distribution")
    assert distribution["chartType"] == "distribution" and len(distribution["data"]) == 10
    factors = get("/api/kpi/churn/risk-factors")["riskFactors"]
    assert factors and all(f["affectedCustomers"] > 0 for f in factors)
    vip = get("/api/kpi/churn/cohorts/VIP", limit=3, sort="ltv", atRiskOnly="true")
    _check(vip, "churn-kpi", "cohort VIP")


def _retainstream(get: Any, *, subscriber: str) -> None:
    status = get("/api/model/status")
    _check(status, "retainstream", "model/status")
    performance = status["data"]["performance"]
    assert isinstance(performance["previous_auc"], float)
    assert isinstance(performance["current_auc"], float)
    assert isinstance(performance["improvement"], str) and performance["improvement"]
    assert isinstance(performance["improved"], bool)
    for path in ("/api/dashboard/metrics", "/api/dashboard/distribution", "/api/model/features"):
        _check(get(path), "retainstream", path)
    _check(get(f"/api/customers/{subscriber}"), "retainstream", "customer")
