"""One chat completion that must answer JSON, through the official `openai` SDK against any
OpenAI-compatible server (a hosted API, vLLM, Ollama, llama.cpp's server).

The SDK's own retries are off (max_retries=0): this loop retries timeouts, connection errors,
429 and 5xx with exponential backoff, so the attempts, their total latency and the reason of
the last failure are known and reported. The answer is asked for as a JSON schema
(`response_format={"type": "json_schema", ...}`); a server that refuses that (400/422 naming
the response format) is asked once more with `{"type": "json_object"}`, and remembered, so
later calls to it go straight to JSON mode. The schema is then enforced by grounding.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from threading import Lock
from typing import Any

import openai

from propensity.llm.config import LlmConfig

RETRYABLE_STATUS = frozenset({408, 409, 429})
_SCHEMA_REFUSED: set[str] = set()
_CLIENTS: dict[tuple[str, str, float], openai.OpenAI] = {}
_LOCK = Lock()


class LlmCallFailed(Exception):
    """No usable completion; `reason` is safe to show (no key, no prompt)."""

    def __init__(self, reason: str, *, attempts: int, latency_ms: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts
        self.latency_ms = latency_ms


@dataclass(frozen=True, kw_only=True)
class Completion:
    content: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    attempts: int
    response_format: str  # "json_schema" or "json_object"


def _client(config: LlmConfig) -> openai.OpenAI:
    """One SDK client (and its connection pool) per server, key and timeout."""
    key = (config.base_url, config.api_key, config.timeout_seconds)
    with _LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            client = openai.OpenAI(
                base_url=config.base_url,
                api_key=config.api_key,
                timeout=config.timeout_seconds,
                max_retries=0,
            )
            _CLIENTS[key] = client
        return client


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, openai.APITimeoutError | openai.APIConnectionError):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRYABLE_STATUS or exc.status_code >= 500
    return False


def _refuses_schema(exc: Exception) -> bool:
    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 422):
        return False
    text = str(exc).lower()
    return "response_format" in text or "json_schema" in text or "schema" in text


def describe_failure(exc: Exception) -> str:
    """A short reason for the answer and the logs: the kind of failure and the status, never
    the request (which holds the prompt) or the key."""
    if isinstance(exc, openai.APITimeoutError):
        return "LLM request timed out"
    if isinstance(exc, openai.APIConnectionError):
        return "LLM server unreachable"
    if isinstance(exc, openai.APIStatusError):
        return f"LLM server answered HTTP {exc.status_code}"
    return f"LLM call failed ({type(exc).__name__})"


def _format(mode: str, *, name: str, schema: dict[str, Any]) -> dict[str, Any]:
    if mode == "json_object":
        return {"type": "json_object"}
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


def complete_json(
    *,
    config: LlmConfig,
    messages: list[dict[str, str]],
    schema_name: str,
    schema: dict[str, Any],
    max_tokens: int = 1200,
) -> Completion:
    """The first usable completion, after up to `config.max_retries` retries; raises
    LlmCallFailed with the last reason otherwise."""
    client = _client(config)
    mode = "json_object" if config.base_url in _SCHEMA_REFUSED else "json_schema"
    started = time.perf_counter()
    attempts = 0
    retries = 0
    while True:
        attempts += 1
        try:
            request: dict[str, Any] = {
                "model": config.model,
                "messages": messages,
                "response_format": _format(mode, name=schema_name, schema=schema),
                "temperature": 0,
                "max_tokens": max_tokens,
            }
            response = client.chat.completions.create(**request)
        except Exception as exc:  # any failure leaves the templates' text
            if mode == "json_schema" and _refuses_schema(exc):
                # Not a transient failure and not a retry: the same request in JSON mode.
                mode = "json_object"
                with _LOCK:
                    _SCHEMA_REFUSED.add(config.base_url)
                continue
            if retries < config.max_retries and _retryable(exc):
                time.sleep(config.backoff_seconds * (2**retries))
                retries += 1
                continue
            raise LlmCallFailed(
                describe_failure(exc),
                attempts=attempts,
                latency_ms=(time.perf_counter() - started) * 1000,
            ) from exc
        latency_ms = (time.perf_counter() - started) * 1000
        try:
            choice = response.choices[0] if response.choices else None
            content = choice.message.content if choice is not None else None
            usage = response.usage
            prompt_tokens = int(usage.prompt_tokens) if usage else 0
            completion_tokens = int(usage.completion_tokens) if usage else 0
            model = str(response.model or config.model)
        except (AttributeError, TypeError, ValueError) as exc:
            raise LlmCallFailed(
                "LLM server answered without a chat completion",
                attempts=attempts,
                latency_ms=latency_ms,
            ) from exc
        return Completion(
            content=content or "",
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_ms=latency_ms,
            attempts=attempts,
            response_format=mode,
        )
