"""word(): the one entry point the surfaces use. Budget check, one chat completion, the
grounding checks, the spend recorded; on any failure the caller keeps its template text and
the metadata says why.

`llmMetadata` (the documents' field names first, then additions):
    model, tokensUsed (total), latencyMs, estimatedCost (USD, from the price table),
    promptTokens, completionTokens (the response's usage), textSource ("llm" or "template"),
    fallbackReason (null when the LLM's text is used), attempts, generatedAt.

When no LLM wrote the text (none configured, a rule-based prediction, `useLLM=false`), the
answer still carries an llmMetadata object, `template_metadata`: model "template" (what wrote
the text), 0 tokens, 0 cost, the time the answer took to make (`latencyMs`), textSource
"template" and fallbackReason saying why no LLM was asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from propensity.llm import budget, grounding
from propensity.llm.client import LlmCallFailed, complete_json
from propensity.llm.config import LlmConfig
from propensity.llm.facts import Facts
from propensity.llm.pricing import estimated_cost
from propensity.llm.schemas import SCHEMAS, system_prompt
from propensity.logs import get_logger
from propensity.timefmt import iso_z

log = get_logger(__name__)
LLM = "llm"
TEMPLATE = "template"
NO_LLM_CONFIGURED = "no LLM configured"


@dataclass(frozen=True, kw_only=True)
class Worded:
    """The checked answer (None when the templates stay) and its llmMetadata."""

    answer: dict[str, Any] | None
    metadata: dict[str, Any]
    # False when nothing reached the server (budget spent): not worth storing.
    attempted: bool

    @property
    def used(self) -> bool:
        return self.answer is not None


def metadata(
    *,
    model: str,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    latency_ms: float = 0.0,
    cost: float = 0.0,
    reason: str | None = None,
    attempts: int = 0,
    now: datetime,
) -> dict[str, Any]:
    return {
        "model": model,
        "tokensUsed": prompt_tokens + completion_tokens,
        "latencyMs": round(latency_ms),
        "estimatedCost": cost,
        "promptTokens": prompt_tokens,
        "completionTokens": completion_tokens,
        "textSource": TEMPLATE if reason else LLM,
        "fallbackReason": reason,
        "attempts": attempts,
        "generatedAt": iso_z(now),
    }


def template_metadata(
    *, latency_ms: float | None, reason: str, generated_at: datetime
) -> dict[str, Any]:
    """llmMetadata of an answer whose text the templates wrote without asking an LLM:
    `latency_ms` is the time the answer (its prediction and text) took to make, `reason` why no
    LLM was asked, `generated_at` when the text was made."""
    return metadata(model=TEMPLATE, latency_ms=latency_ms or 0.0, reason=reason, now=generated_at)


def _template_kept(
    *, model: str, reason: str, now: datetime, failure: LlmCallFailed | None = None
) -> Worded:
    # Without a failed call nothing reached the server (the budget refused it).
    latency_ms, attempts = (failure.latency_ms, failure.attempts) if failure else (0.0, 0)
    return Worded(
        answer=None,
        metadata=metadata(
            model=model, latency_ms=latency_ms, reason=reason, attempts=attempts, now=now
        ),
        attempted=failure is not None,
    )


def word(session: Session, *, config: LlmConfig, facts: Facts, now: datetime) -> Worded:
    """Asks the LLM to word `facts`. Writes the day's usage to `session` (the caller
    commits); never raises for anything the LLM or its server does."""
    refused = budget.exhausted(config, budget.usage_on(session, day=now.date()))
    if refused is not None:
        return _template_kept(model=config.model, reason=refused, now=now)
    messages = [
        {"role": "system", "content": system_prompt(facts.task)},
        {"role": "user", "content": facts.to_json()},
    ]
    try:
        completion = complete_json(
            config=config,
            messages=messages,
            schema_name=f"propensity_{facts.task}",
            schema=SCHEMAS[facts.task],
        )
    except LlmCallFailed as exc:
        log.warning("llm_call_failed", task=facts.task, reason=exc.reason, attempts=exc.attempts)
        return _template_kept(model=config.model, reason=exc.reason, now=now, failure=exc)
    cost = estimated_cost(
        model=config.model,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        prices_per_million=config.prices_per_million,
    )
    budget.spend(
        session,
        now=now,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        cost_usd=cost,
    )
    reason = None
    answer: dict[str, Any] | None = None
    try:
        answer = grounding.check(completion.content, facts)
    except grounding.Rejected as exc:
        reason = f"LLM answer rejected: {exc.reason}"
        log.warning("llm_answer_rejected", task=facts.task, reason=exc.reason)
    return Worded(
        answer=answer,
        metadata=metadata(
            model=completion.model,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            latency_ms=completion.latency_ms,
            cost=cost,
            reason=reason,
            attempts=completion.attempts,
            now=now,
        ),
        attempted=True,
    )
