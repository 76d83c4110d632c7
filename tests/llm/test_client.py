"""The client against a real chat-completions server on 127.0.0.1: a JSON answer with its
usage, retries with backoff, timeouts, and the JSON-mode fallback for servers that refuse a
schema."""

from __future__ import annotations

import json

import pytest

from propensity.llm.client import Completion, LlmCallFailed, complete_json
from propensity.llm.config import LlmConfig
from propensity.llm.schemas import SCHEMAS
from propensity.settings import Settings
from tests.llm.server import LlmServer

FACTS = {"task": "lead", "subject": "lead", "prediction": {"probability": 0.42}}
KEY = "sk-test-not-a-real-key-123"


def config(server: LlmServer, **overrides: object) -> LlmConfig:
    values: dict[str, object] = {
        "llm_base_url": server.base_url,
        "llm_api_key": KEY,
        "llm_model": "test-model",
        "llm_timeout_seconds": 1.0,
        "llm_max_retries": 2,
        "llm_backoff_seconds": 0.01,
        **overrides,
    }
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]
    made = LlmConfig.from_settings(settings)
    assert made is not None
    return made


def ask(cfg: LlmConfig) -> Completion:
    return complete_json(
        config=cfg,
        messages=[{"role": "user", "content": json.dumps(FACTS)}],
        schema_name="propensity_lead",
        schema=SCHEMAS["lead"],
    )


def test_a_json_answer_with_usage_from_the_response(llm_server: LlmServer) -> None:
    completion = ask(config(llm_server))
    answer = json.loads(completion.content)
    assert answer["explanation"].startswith("Worded:")
    seen = llm_server.requests[0]
    assert seen["path"] == "/v1/chat/completions"
    assert seen["authorization"] == f"Bearer {KEY}"
    assert seen["body"]["response_format"]["type"] == "json_schema"
    assert seen["body"]["response_format"]["json_schema"]["schema"] == SCHEMAS["lead"]
    assert completion.prompt_tokens > 0 and completion.completion_tokens > 0
    assert completion.attempts == 1


def test_server_errors_are_retried_with_backoff(llm_server: LlmServer) -> None:
    llm_server.script = ["error500", "error500"]
    completion = ask(config(llm_server))
    assert completion.attempts == 3
    assert [r["mode"] for r in llm_server.requests] == ["error500", "error500", "good"]


def test_retries_run_out(llm_server: LlmServer) -> None:
    llm_server.mode = "error500"
    with pytest.raises(LlmCallFailed) as failed:
        ask(config(llm_server, llm_max_retries=1))
    assert failed.value.reason == "LLM server answered HTTP 500"
    assert failed.value.attempts == 2
    assert len(llm_server.requests) == 2


def test_a_slow_server_times_out(llm_server: LlmServer) -> None:
    llm_server.mode = "timeout"
    llm_server.delay = 2.0
    with pytest.raises(LlmCallFailed) as failed:
        ask(config(llm_server, llm_timeout_seconds=0.3, llm_max_retries=1))
    assert failed.value.reason == "LLM request timed out"
    assert failed.value.attempts == 2
    assert failed.value.latency_ms >= 500


def test_a_server_refusing_json_schema_gets_json_mode(llm_server: LlmServer) -> None:
    llm_server.mode = "refuse_schema"
    cfg = config(llm_server)
    completion = ask(cfg)
    assert completion.response_format == "json_object"
    formats = [r["body"]["response_format"]["type"] for r in llm_server.requests]
    assert formats == ["json_schema", "json_object"]
    ask(cfg)  # remembered: straight to JSON mode
    assert llm_server.requests[-1]["body"]["response_format"] == {"type": "json_object"}


def test_unreachable_server() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        llm_base_url="http://127.0.0.1:9/v1",
        llm_api_key=KEY,  # type: ignore[arg-type]
        llm_model="m",
        llm_max_retries=0,
    )
    cfg = LlmConfig.from_settings(settings)
    assert cfg is not None
    with pytest.raises(LlmCallFailed) as failed:
        ask(cfg)
    assert failed.value.reason == "LLM server unreachable"
    assert KEY not in repr(cfg)


def test_not_configured_without_base_url_model_or_key() -> None:
    assert LlmConfig.from_settings(Settings(_env_file=None)) is None  # type: ignore[call-arg]
    partial = Settings(_env_file=None, llm_base_url="http://127.0.0.1:9/v1", llm_model="m")  # type: ignore[call-arg]
    assert LlmConfig.from_settings(partial) is None
