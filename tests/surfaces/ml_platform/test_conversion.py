"""`POST /api/ml/predict/conversion`: conversion within the timeframe from the survival model
(or the conversion model without one), values checked against stored predictions."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.models import Lead, ModelVersion, Prediction
from propensity.predictions.service import score_and_record
from propensity.settings import Settings
from propensity.surfaces.ml_platform.conversion_timing import band, parse_timeframe
from tests.factories import make_simulated_tenant
from tests.surfaces.ml_platform.helpers_scores import call, error_of, lead_ids, trained_leads


def _predict(client: TestClient, user: Any, ids: list[int], timeframe: str, **extra: Any) -> Any:
    body = {"leadIds": ids, "timeframe": timeframe, **extra}
    return call(client, user, "POST", "/predict/conversion", json=body)["data"]


def test_conversion_within_timeframe_from_the_survival_model(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_leads(database, settings, time_to_close=True)
    ids = lead_ids(database, user.tenant_id)[:3]
    data = {tf: _predict(client, user, ids, tf, includeFactors=True) for tf in ("7d", "30d", "90d")}
    month = data["30d"]
    info = month["modelInfo"]
    assert {"version", "accuracy", "lastUpdated"} <= set(info)
    assert info["probabilitySource"] == "time_to_close" and info["timeframeDays"] == 30
    with database.tenant_session(user.tenant_id) as session:
        version = session.scalars(
            sa.select(ModelVersion).where(ModelVersion.prediction_type == "CONVERSION")
        ).one()
        assert info["version"] == f"v{version.version_number}"
        assert info["accuracy"] == pytest.approx(version.metrics["accuracy"], abs=1e-4)
        horizon = session.scalars(
            sa.select(ModelVersion.horizon_days).where(
                ModelVersion.prediction_type == "TIME_TO_CLOSE"
            )
        ).one()
        # The survival model's stored probability is P(close within its horizon).
        run = score_and_record(
            session, prediction_type="TIME_TO_CLOSE", entity_ids=ids, settings=settings
        )
        stored_within = {r.entity_id: r.probability for r in run.results}
        stored_median = {r.entity_id: r.predicted_value for r in run.results}
        budgets = {lead.id: lead.budget for lead in session.scalars(sa.select(Lead))}
        factors = {
            p.lead_id: p.outputs.get("decisionFactors")
            for p in session.scalars(
                sa.select(Prediction).where(
                    Prediction.prediction_type == "CONVERSION", Prediction.status == "ACTIVE"
                )
            )
        }
    at_horizon = _predict(client, user, ids, f"{horizon}d")
    for i, lead_id in enumerate(ids):
        rows = [data[tf]["predictions"][i] for tf in ("7d", "30d", "90d")]
        assert all(r["leadId"] == lead_id for r in rows)
        chances = [r["conversionProbability"] for r in rows]
        assert chances == sorted(chances) and chances[0] >= 0 and chances[-1] <= 1
        assert at_horizon["predictions"][i]["conversionProbability"] == pytest.approx(
            stored_within[lead_id], abs=1e-4
        )
        entry = rows[1]
        assert entry["timeToConversion"] == band(float(stored_median[lead_id] or 0))
        budget = budgets[lead_id]
        if budget:
            assert entry["estimatedValue"] == pytest.approx(
                budget * entry["conversionProbability"], abs=budget * 1e-4 + 1
            )
        assert entry["keyFactors"] and entry["keyFactors"] == factors[lead_id]
        assert 0 <= entry["confidence"] <= 1
    assert "keyFactors" not in at_horizon["predictions"][0]


def test_conversion_model_probability_without_a_survival_model(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_leads(database, settings, leads=300)
    ids = lead_ids(database, user.tenant_id)[:2]
    data = _predict(client, user, ids, "30d")
    assert data["modelInfo"]["probabilitySource"] == "conversion"
    with database.tenant_session(user.tenant_id) as session:
        stored = {
            p.lead_id: p
            for p in session.scalars(
                sa.select(Prediction).where(
                    Prediction.prediction_type == "CONVERSION", Prediction.status == "ACTIVE"
                )
            )
        }
    for entry in data["predictions"]:
        prediction = stored[entry["leadId"]]
        assert entry["conversionProbability"] == pytest.approx(prediction.probability, abs=1e-4)
        assert entry["predictionId"] == prediction.id
        assert entry["timeToConversion"] is None
    # A second call reuses the cached predictions.
    again = _predict(client, user, ids, "30d")
    assert [e["predictionId"] for e in again["predictions"]] == [
        e["predictionId"] for e in data["predictions"]
    ]


def test_conversion_errors(client: TestClient, database: Database, settings: Settings) -> None:
    user = trained_leads(database, settings, leads=200)
    ids = lead_ids(database, user.tenant_id)[:2]
    other = make_simulated_tenant(database, settings, slug="other", leads=20, seed=3)
    theirs = lead_ids(database, other.tenant_id, open_only=False)[0]
    cases: list[tuple[Any, int, str]] = [
        ({"leadIds": [ids[0], theirs]}, 404, "LEAD_NOT_FOUND"),
        ({"leadIds": ids, "timeframe": "30 days"}, 400, "VALIDATION_ERROR"),
        ({"leadIds": ids, "timeframe": "0d"}, 400, "VALIDATION_ERROR"),
        ({"leadIds": ids, "timeframe": "400d"}, 400, "VALIDATION_ERROR"),
        ({"leadIds": [*ids, 99999999]}, 404, "LEAD_NOT_FOUND"),
        ({"leadIds": "1,2"}, 400, "VALIDATION_ERROR"),
        ({"leadIds": ids, "includeFactors": "yes"}, 400, "VALIDATION_ERROR"),
    ]
    for body, status, code in cases:
        response = client.post("/api/ml/predict/conversion", headers=user.headers, json=body)
        assert response.status_code == status, (body, response.text)
        assert error_of(response.json())["code"] == code
    with database.tenant_session(user.tenant_id) as session:
        assert session.scalar(sa.select(sa.func.count(Prediction.id))) == 0


def test_timeframe_and_band_rules() -> None:
    assert parse_timeframe("7d") == 7 and parse_timeframe(None) == 30
    assert parse_timeframe(" 90D ") == 90
    assert band(3) == "0-7 days" and band(20) == "15-30 days" and band(30) == "15-30 days"
    assert band(200) == "180-365 days" and band(5000) == "over 365 days"


def test_scoring_slower_than_the_configured_timeout_is_prediction_timeout(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_leads(database, settings)
    # Fresh scores with explanations for 500 leads take about a second here: ten times the
    # smallest timeout the configuration allows.
    call(client, user, "PUT", "/config", json={"scoring": {"timeout": 100}})
    ids = lead_ids(database, user.tenant_id, open_only=False)
    response = client.post(
        "/api/ml/predict/conversion", headers=user.headers, json={"leadIds": ids}
    )
    assert response.status_code == 504, response.text
    error = error_of(response.json())
    with database.tenant_session(user.tenant_id) as session:
        model_id = session.scalars(
            sa.select(ModelVersion.id).where(ModelVersion.prediction_type == "CONVERSION")
        ).one()
        # The answer was not given: nothing it scored is kept.
        assert session.scalar(sa.select(sa.func.count(Prediction.id))) == 0
    assert error["code"] == "PREDICTION_TIMEOUT"
    assert error["details"]["timeout"] == 100 and error["details"]["modelId"] == str(model_id)
    assert error["details"]["elapsedMs"] > 100
