"""The LLM's configuration, read from settings; None when it is not configured."""

from __future__ import annotations

from dataclasses import dataclass

from propensity.settings import Settings

NOT_CONFIGURED = "OpenAI API key not configured"


@dataclass(frozen=True, kw_only=True)
class LlmConfig:
    base_url: str
    api_key: str
    model: str
    timeout_seconds: float
    max_retries: int
    backoff_seconds: float
    daily_token_budget: int
    daily_cost_budget_usd: float
    prices_per_million: dict[str, tuple[float, float]]

    def __repr__(self) -> str:
        # Never print the key: configs end up in error messages and logs.
        return f"LlmConfig(base_url={self.base_url!r}, model={self.model!r})"

    @classmethod
    def from_settings(cls, settings: Settings) -> LlmConfig | None:
        """Configured when the base URL, the model and a key are all set. A server that needs
        no key (a local Ollama or llama.cpp) accepts any value; the SDK requires one, and
        without a base URL it would go to a hosted default nobody chose."""
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else ""
        if not (settings.llm_base_url and settings.llm_model and key):
            return None
        return cls(
            base_url=settings.llm_base_url,
            api_key=key,
            model=settings.llm_model,
            timeout_seconds=settings.llm_timeout_seconds,
            max_retries=settings.llm_max_retries,
            backoff_seconds=settings.llm_backoff_seconds,
            daily_token_budget=settings.llm_daily_token_budget,
            daily_cost_budget_usd=settings.llm_daily_cost_budget_usd,
            prices_per_million=dict(settings.llm_prices_per_million),
        )


def missing_parts(settings: Settings) -> list[str]:
    """The settings still missing, by environment variable (for the status endpoint)."""
    missing = []
    if not settings.llm_base_url:
        missing.append("PROPENSITY_LLM_BASE_URL")
    if not settings.llm_model:
        missing.append("PROPENSITY_LLM_MODEL")
    if not (settings.llm_api_key and settings.llm_api_key.get_secret_value()):
        missing.append("PROPENSITY_LLM_API_KEY")
    return missing
