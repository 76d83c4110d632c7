"""Customer-success answers worded by an LLM (ADR 0011), against a real chat-completions
server on 127.0.0.1: LLM text with real llmMetadata, the figures untouched, the text stored
with the prediction, clean fallback with a reason when the server misbehaves, the daily
budget, and the status endpoint reporting the model and the LLM apart."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from propensity.app import create_app
from propensity.db import Database
from propensity.models import Prediction
from propensity.settings import Settings
from tests.llm.server import PREFIX, LlmServer, running
from tests.surfaces.customer_success.helpers import account_ids, call, trained_accounts

MODEL = "test-model"
METADATA_KEYS = {
    "model",
    "tokensUsed",
    "latencyMs",
    "estimatedCost",
    "promptTokens",
    "completionTokens",
    "textSource",
    "fallbackReason",
    "attempts",
    "generatedAt",
    "reused",
}


@pytest.fixture
def llm_server() -> Iterator[LlmServer]:
    with running() as server:
        yield server


def llm_settings(settings: Settings, server: LlmServer, **extra: Any) -> Settings:
    return settings.model_copy(
        update={
            "llm_base_url": server.base_url,
            "llm_api_key": SecretStr("sk-test-key"),
            "llm_model": MODEL,
            "llm_timeout_seconds": 1.0,
            "llm_max_retries": 1,
            "llm_backoff_seconds": 0.01,
            "llm_prices_per_million": {MODEL: (1.0, 2.0)},
            **extra,
        }
    )


def predict(client: TestClient, user: Any, account: int, kind: str, force: bool) -> Any:
    body = {"predictionType": kind, "options": {"forceRefresh": force}}
    return call(client, user, "POST", f"/{account}/ml/predict", json=body)["data"]


def stored(database: Database, tenant_id: int, prediction_id: int) -> Prediction:
    with database.tenant_session(tenant_id) as session:
        prediction = session.get(Prediction, prediction_id)
        assert prediction is not None
        session.expunge(prediction)
        return prediction


def test_llm_words_account_answers_and_falls_back_cleanly(
    client: TestClient, database: Database, settings: Settings, llm_server: LlmServer
) -> None:
    user = trained_accounts(database, settings, slug="cs-llm")
    account = account_ids(database, user.tenant_id)[0]
    status = call(client, user, "GET", "/portfolio/ml/status")
    assert status["available"] is True and "OpenAI" not in status["message"]
    assert status["llm"]["configured"] is False
    assert "OpenAI API key not configured" in status["llm"]["message"]

    with TestClient(create_app(llm_settings(settings, llm_server), database)) as llm_client:
        data = predict(llm_client, user, account, "CHURN", force=False)
        row = stored(database, user.tenant_id, data["predictionId"])
        # The figures are the model's; only the words are the LLM's.
        assert data["probability"] == data["churnProbability"] == row.probability
        assert data["explanation"].startswith(PREFIX) and row.explanation != data["explanation"]
        assert all(d.startswith(PREFIX) for d in data["primaryChurnDrivers"])
        assert data["primaryChurnDrivers"]
        template = row.outputs["recommendations"]
        assert [r["action"] for r in data["recommendations"]] == [r["action"] for r in template]
        assert all(r["rationale"].startswith(PREFIX) for r in data["recommendations"])
        meta = data["llmMetadata"]
        assert set(meta) == METADATA_KEYS
        usage = llm_server.requests[-1]
        assert meta["model"] == MODEL and meta["textSource"] == "llm"
        assert meta["fallbackReason"] is None and meta["reused"] is False
        assert meta["tokensUsed"] == meta["promptTokens"] + meta["completionTokens"] > 0
        expected_cost = (meta["promptTokens"] * 1.0 + meta["completionTokens"] * 2.0) / 1e6
        assert meta["estimatedCost"] == pytest.approx(expected_cost, abs=1e-6)
        assert meta["latencyMs"] >= 0 and usage["authorization"] == "Bearer sk-test-key"
        facts = usage["body"]["messages"][-1]["content"]
        assert '"contributions"' in facts and '"candidateRecommendations"' in facts

        # Cached: the stored wording, no second call.
        calls = len(llm_server.requests)
        risk = call(llm_client, user, "GET", f"/{account}/ml/churn-risk")
        assert risk["cached"] is True and risk["data"]["explanation"] == data["explanation"]
        assert risk["data"]["llmMetadata"]["reused"] is True
        assert len(llm_server.requests) == calls

        health = call(llm_client, user, "GET", f"/{account}/ml/health-insights")["data"]
        assert health["explanation"].startswith(PREFIX)
        assert health["llmMetadata"]["textSource"] == "llm"

        for mode, reason in (
            ("invent_driver", "driver not among the contributions"),
            ("invent_number", "number not in the facts"),
            ("malformed", "not valid JSON"),
            ("timeout", "timed out"),
            ("error500", "HTTP 500"),
        ):
            llm_server.mode = mode
            fallback = predict(llm_client, user, account, "CHURN", force=True)
            row = stored(database, user.tenant_id, fallback["predictionId"])
            assert fallback["explanation"] == row.explanation, mode
            assert fallback["primaryChurnDrivers"] == row.outputs["primaryDrivers"]
            assert fallback["recommendations"] == row.outputs["recommendations"]
            meta = fallback["llmMetadata"]
            assert meta["textSource"] == "template" and reason in meta["fallbackReason"], mode
            assert fallback["probability"] == row.probability

        llm_server.mode = "good"
        status = call(llm_client, user, "GET", "/portfolio/ml/status")
        assert status["available"] is True
        assert status["llm"]["configured"] is True and status["llm"]["model"] == MODEL
        assert "OpenAI" not in status["llm"]["message"]
        assert status["llm"]["budget"]["calls"] >= 5
        assert status["llm"]["budget"]["tokensUsed"] > 0

    # A budget already spent today: no call, templates, and the reason.
    tight = llm_settings(settings, llm_server, llm_daily_token_budget=1)
    with TestClient(create_app(tight, database)) as tight_client:
        calls = len(llm_server.requests)
        data = predict(tight_client, user, account, "CHURN", force=True)
        assert len(llm_server.requests) == calls
        assert data["llmMetadata"]["textSource"] == "template"
        assert "budget spent" in data["llmMetadata"]["fallbackReason"]
        assert data["llmMetadata"]["tokensUsed"] == 0
        status = call(tight_client, user, "GET", "/portfolio/ml/status")
        assert status["available"] is True and status["llm"]["available"] is False
