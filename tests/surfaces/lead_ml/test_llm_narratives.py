"""Lead-ml answers worded by an LLM (ADR 0011), against a real chat-completions server on
127.0.0.1: a conversion prediction's explanation and recommendations, ranked leads'
reasoning and summary with `useLLM`; `ruleBasedOnly` and `useLLM=false` never call it;
fallback to the templates with the reason when the server misbehaves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from propensity.app import create_app
from propensity.db import Database
from propensity.settings import Settings
from tests.llm.server import PREFIX, LlmServer, running
from tests.surfaces.conformance import assert_template_metadata
from tests.surfaces.lead_ml.helpers import call, lead_tenant, open_lead_ids

MODEL = "test-model"


@pytest.fixture
def llm_server() -> Iterator[LlmServer]:
    with running() as server:
        yield server


def test_llm_words_lead_answers_and_falls_back_cleanly(
    database: Database, settings: Settings, llm_server: LlmServer
) -> None:
    user, config = lead_tenant(database, settings, slug="leads-llm", leads=300)
    lead = open_lead_ids(database, user.tenant_id)[0]
    configured = settings.model_copy(
        update={
            "llm_base_url": llm_server.base_url,
            "llm_api_key": SecretStr("sk-test-key"),
            "llm_model": MODEL,
            "llm_timeout_seconds": 1.0,
            "llm_max_retries": 0,
        }
    )
    with TestClient(create_app(configured, database)) as client:
        rule = call(client, user, "POST", f"/leads/{lead}/ml/predict", json={"ruleBasedOnly": True})
        assert not llm_server.requests
        assert_template_metadata(rule["prediction"]["llmMetadata"], reason="rule-based")

        answer = call(client, user, "POST", f"/leads/{lead}/ml/predict", json={})["prediction"]
        assert answer["method"] == "model"
        assert answer["explanation"].startswith(PREFIX)
        assert all(r["rationale"].startswith(PREFIX) for r in answer["recommendations"])
        meta = answer["llmMetadata"]
        assert meta["model"] == MODEL and meta["textSource"] == "llm"
        assert meta["tokensUsed"] == meta["promptTokens"] + meta["completionTokens"] > 0
        assert meta["estimatedCost"] == 0  # not in the price table: a local server
        stored = call(client, user, "GET", f"/leads/{lead}/ml/prediction")["prediction"]
        assert stored["probability"] == answer["probability"]
        assert stored["explanation"] == answer["explanation"]
        assert stored["llmMetadata"]["reused"] is True
        assert stored["predictedScoreLevel"] == answer["predictedScoreLevel"]

        llm_server.mode = "invent_number"
        fallback = call(
            client, user, "POST", f"/leads/{lead}/ml/predict", json={"forceRefresh": True}
        )["prediction"]
        assert not fallback["explanation"].startswith(PREFIX)
        assert fallback["llmMetadata"]["textSource"] == "template"
        assert "number not in the facts" in fallback["llmMetadata"]["fallbackReason"]

        llm_server.mode = "good"
        call(client, user, "POST", f"/{config}/ml/bulk-predict", json={"limit": 40})
        calls = len(llm_server.requests)
        plain = call(client, user, "GET", f"/{config}/ml/ranked-leads", params={"useLLM": False})
        assert "llmFallback" not in plain
        assert_template_metadata(plain["llmMetadata"], reason="useLLM=false")
        assert len(llm_server.requests) == calls

        ranked = call(client, user, "GET", f"/{config}/ml/ranked-leads", params={"limit": 15})
        assert ranked["textSource"] == "llm" and "llmFallback" not in ranked
        assert all(r["reasoning"].startswith(PREFIX) for r in ranked["rankings"][:10])
        assert not any(r["reasoning"].startswith(PREFIX) for r in ranked["rankings"][10:])
        assert ranked["insights"]["summary"].startswith(PREFIX)
        assert ranked["llmMetadata"]["wordedLeads"] == 10
        assert [r["priorityRank"] for r in ranked["rankings"]] == list(range(1, 16))
        assert ranked["rankings"] == [
            {**r, "reasoning": ranked["rankings"][i]["reasoning"]}
            for i, r in enumerate(plain["rankings"][:15])
        ]
        # The same ranking again reuses its wording.
        again = call(client, user, "GET", f"/{config}/ml/ranked-leads", params={"limit": 15})
        assert again["llmMetadata"]["reused"] is True
        assert again["rankings"] == ranked["rankings"]

        llm_server.mode = "malformed"
        broken = call(client, user, "GET", f"/{config}/ml/ranked-leads", params={"limit": 5})
        assert broken["textSource"] == "template"
        assert "not valid JSON" in broken["llmFallback"]
        assert broken["llmMetadata"]["fallbackReason"] == broken["llmFallback"]
        assert broken["rankings"] == plain["rankings"][:5]
