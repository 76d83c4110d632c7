"""The LLM part of the status endpoint: configured or not, which model, today's budget."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from propensity.llm import budget
from propensity.llm.config import NOT_CONFIGURED, LlmConfig, missing_parts
from propensity.settings import Settings


def llm_status(session: Session, *, settings: Settings, now: datetime) -> dict[str, Any]:
    config = LlmConfig.from_settings(settings)
    if config is None:
        return {
            "configured": False,
            "available": False,
            "model": None,
            "message": f"LLM unavailable - {NOT_CONFIGURED}; explanations come from templates",
            "missing": missing_parts(settings),
            "budget": None,
        }
    usage = budget.usage_on(session, day=now.date())
    refused = budget.exhausted(config, usage)
    message = (
        f"LLM narratives on (model {config.model}); answers failing the grounding checks "
        "use the templates"
    )
    return {
        "configured": True,
        "available": refused is None,
        "model": config.model,
        "message": refused or message,
        "missing": [],
        "budget": {
            "day": usage.day.isoformat(),
            "calls": usage.calls,
            "tokensUsed": usage.tokens,
            "tokenBudget": config.daily_token_budget or None,
            "estimatedCostUsd": round(usage.cost_usd, 6),
            "costBudgetUsd": config.daily_cost_budget_usd or None,
        },
    }
