"""Contract tests for the portfolio endpoints of spec/customer-success-ml.md: high-risk
accounts, CTAs (single and batch, cooldown and duplicates, stats through their lifecycle),
validation of expired predictions against real outcomes, and accuracy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sklearn.metrics import brier_score_loss, roc_auc_score

from propensity.db import Database
from propensity.models import Customer, ModelVersion, Prediction
from propensity.predictions.service import score_and_record
from propensity.settings import Settings
from tests.surfaces.customer_success.helpers import account_ids, call, trained_accounts

# The simulated data ends on 2026-06-01: predictions made in the winter have known outcomes.
PAST = (datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 2, 15, tzinfo=UTC))


def test_high_risk_ctas_and_their_statistics(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_accounts(database, settings)
    with database.tenant_session(user.tenant_id) as session:
        score_and_record(
            session,
            prediction_type="CHURN",
            kind="account",
            entity_ids=account_ids(database, user.tenant_id),
        )
        threshold = session.scalars(
            sa.select(ModelVersion.threshold).where(
                ModelVersion.prediction_type == "CHURN", ModelVersion.status == "active"
            )
        ).one()
        probabilities = dict(
            session.execute(
                sa.select(Prediction.customer_id, Prediction.probability).where(
                    Prediction.status == "ACTIVE"
                )
            ).all()
        )
    assert threshold is not None

    risky = call(client, user, "GET", "/portfolio/ml/high-risk", params={"minProbability": 0.2})
    expected = sorted((p for p in probabilities.values() if p >= 0.2), reverse=True)
    assert risky["total"] == len(expected)
    assert [r["prediction"]["probability"] for r in risky["data"]] == expected[:50]
    assert risky["count"] == len(risky["data"])
    first = risky["data"][0]
    assert set(first["account"]) == {"id", "name", "type", "healthScore"}
    assert set(first["prediction"]) == {
        "id",
        "probability",
        "confidence",
        "explanation",
        "predictedAt",
    }
    limited = call(
        client, user, "GET", "/portfolio/ml/high-risk", params={"minProbability": 0, "limit": 3}
    )
    assert limited["count"] == 3 and limited["total"] == len(probabilities)

    # One account's CTA, then the cooldown refuses a second one with the documented 400.
    riskiest = first["account"]["id"]
    created = call(client, user, "POST", f"/{riskiest}/ml/generate-cta", expect=201)["data"]
    assert created["wasCreated"] is True and created["predictionId"] == first["prediction"]["id"]
    cta = created["cta"]
    assert {"id", "type", "priority", "title", "description", "dueDate", "status"} <= set(cta)
    assert cta["status"] == "OPEN" and cta["type"] in {"RISK", "RENEWAL", "ONBOARDING"}
    assert cta["description"].startswith("**ML Analysis**")
    refused = call(client, user, "POST", f"/{riskiest}/ml/generate-cta", expect=400)
    assert refused["error"] == "CTA not created"
    assert refused["reason"] in {"Similar CTA already exists", "CTA cooldown active (7 days)"}

    batch = call(
        client,
        user,
        "POST",
        "/portfolio/ml/generate-ctas",
        json={"predictionType": "CHURN", "maxCTAs": 5},
    )
    at_risk = sum(1 for p in probabilities.values() if p >= threshold)
    assert batch["generated"] == min(5, at_risk - 1)
    assert batch["skipped"] == len(batch["results"]) - batch["generated"]
    skipped = [r for r in batch["results"] if not r["wasCreated"]]
    assert [r["cta"] for r in skipped] == [None] * len(skipped)
    assert all(r["skippedReason"] for r in skipped)
    assert any(r["predictionId"] == first["prediction"]["id"] for r in skipped)

    stats = call(client, user, "GET", "/portfolio/ml/cta-stats")["data"]
    total = 1 + batch["generated"]
    assert stats["totalGenerated"] == stats["openCount"] == total
    assert stats["completedCount"] == 0 and stats["completionRate"] == 0
    assert sum(stats["byType"].values()) == total
    # Completing one through the lifecycle endpoint shows in the statistics.
    done = client.patch(
        f"/api/v1/ctas/{cta['id']}", json={"status": "COMPLETED"}, headers=user.headers
    )
    assert done.status_code == 200, done.text
    after = call(client, user, "GET", "/portfolio/ml/cta-stats")["data"]
    assert after["completedCount"] == 1 and after["openCount"] == total - 1
    assert after["completionRate"] == round(1 / total, 3)
    assert after["averageResolutionDays"] is not None and after["averageResolutionDays"] >= 0


def test_expired_predictions_are_validated_against_real_outcomes(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_accounts(database, settings)
    ids = account_ids(database, user.tenant_id)
    with database.tenant_session(user.tenant_id) as session:
        for as_of in PAST:
            for ptype in ("CHURN", "HEALTH_TREND"):
                score_and_record(
                    session, prediction_type=ptype, kind="account", entity_ids=ids, as_of=as_of
                )
    before = call(client, user, "GET", "/portfolio/ml/accuracy")["data"]
    assert before["validatedCount"] == 0 and before["accuracy"] is None
    assert before["totalPredictions"] == 4 * len(ids)

    result = call(client, user, "POST", "/portfolio/ml/validate-predictions")
    assert result["validated"] > 0
    assert result["message"] == f"Validated {result['validated']} expired predictions"
    assert call(client, user, "POST", "/portfolio/ml/validate-predictions")["validated"] == 0

    with database.tenant_session(user.tenant_id) as session:
        rows = session.execute(
            sa.select(
                Prediction.prediction_type,
                Prediction.probability,
                Prediction.predicted_at,
                Prediction.was_accurate,
                Prediction.actual_value,
                ModelVersion.threshold,
                Customer.churned_at,
            )
            .join(ModelVersion, ModelVersion.id == Prediction.model_version_id)
            .join(Customer, Customer.id == Prediction.customer_id)
            .where(Prediction.was_accurate.is_not(None))
        ).all()
    churn = [r for r in rows if r[0] == "CHURN"]
    assert churn and any(r[4] == 1.0 for r in churn) and any(r[4] == 0.0 for r in churn)
    for _, p, at, accurate, actual, t, churned_at in churn:
        churned = churned_at is not None and at < churned_at <= at + timedelta(days=90)
        assert actual == float(churned)
        assert accurate == ((p >= t) == churned)

    report = call(client, user, "GET", "/portfolio/ml/accuracy")["data"]
    health = [r for r in rows if r[0] == "HEALTH_TREND"]
    assert report["validatedCount"] == len(rows)
    assert report["accurateCount"] == sum(1 for r in rows if r[3])
    assert report["accuracy"] == round(report["accurateCount"] / len(rows), 4)
    assert report["byType"]["CHURN"]["total"] == len(churn)
    assert report["byType"]["HEALTH_TREND"]["total"] == len(health) > 0
    probs = np.array([r[1] for r in churn])
    labels = np.array([r[4] for r in churn])
    assert abs(report["byType"]["CHURN"]["brierScore"] - brier_score_loss(labels, probs)) < 1e-4
    assert abs(report["byType"]["CHURN"]["auc"] - roc_auc_score(labels, probs)) < 1e-4
    assert report["byType"]["CHURN"]["auc"] > 0.6  # the model knows something real
    only = call(
        client, user, "GET", "/portfolio/ml/accuracy", params={"predictionType": "HEALTH_TREND"}
    )["data"]
    assert set(only["byType"]) == {"HEALTH_TREND"} and only["validatedCount"] == len(health)

    listed = call(
        client, user, "GET", f"/{ids[0]}/ml/predictions", params={"includeExpired": "true"}
    )["data"]
    assert {p["status"] for p in listed} <= {"EXPIRED", "SUPERSEDED"}
    assert any(p["wasAccurate"] is not None for p in listed)
    assert call(client, user, "GET", f"/{ids[0]}/ml/predictions")["data"] == []


def test_status_lists_the_trained_models(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_accounts(database, settings)
    status = call(client, user, "GET", "/portfolio/ml/status")
    assert status["available"] is True and status["message"] == "ML service is available"
    models = {m["predictionType"]: m for m in status["models"]}
    assert set(models) == {"CHURN", "HEALTH_TREND"}
    assert 0.5 < models["CHURN"]["heldOutAuc"] <= 1 and models["CHURN"]["heldOutMae"] is None
    assert models["HEALTH_TREND"]["heldOutMae"] > 0 and models["HEALTH_TREND"]["heldOutAuc"] is None
