"""word() with a real database and the test LLM server: the spend of every answer that came
back (accepted or rejected) is recorded per tenant and UTC day, the budget in tokens or cost
stops further calls, and another session (another process) sees the same spend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from propensity.db import Database
from propensity.llm import budget
from propensity.llm.config import LlmConfig
from propensity.llm.service import word
from propensity.settings import Settings
from tests.factories import make_tenant_user
from tests.llm.server import LlmServer
from tests.llm.test_grounding import churn_facts

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def llm_config(server: LlmServer, **overrides: object) -> LlmConfig:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        llm_base_url=server.base_url,
        llm_api_key="sk-test",  # type: ignore[arg-type]
        llm_model="priced-model",
        llm_max_retries=0,
        llm_prices_per_million={"priced-model": (100.0, 300.0)},
        **overrides,  # type: ignore[arg-type]
    )
    config = LlmConfig.from_settings(settings)
    assert config is not None
    return config


def test_spend_and_budgets(database: Database, settings: Settings, llm_server: LlmServer) -> None:
    user = make_tenant_user(database, settings, slug="llm-budget")
    other = make_tenant_user(database, settings, slug="llm-other")
    config = llm_config(llm_server, llm_daily_cost_budget_usd=0.5, llm_daily_token_budget=0)
    with database.tenant_session(user.tenant_id) as session:
        good = word(session, config=config, facts=churn_facts(), now=NOW)
    assert good.used and good.metadata["textSource"] == "llm"
    cost = good.metadata["estimatedCost"]
    expected = (good.metadata["promptTokens"] * 100 + good.metadata["completionTokens"] * 300) / 1e6
    assert cost == round(expected, 6) > 0

    llm_server.mode = "invent_driver"
    with database.tenant_session(user.tenant_id) as session:
        rejected = word(session, config=config, facts=churn_facts(), now=NOW)
    assert rejected.answer is None and rejected.attempted
    assert "driver not among the contributions" in rejected.metadata["fallbackReason"]
    assert rejected.metadata["tokensUsed"] > 0  # a rejected answer was still paid for

    with database.tenant_session(user.tenant_id) as session:
        usage = budget.usage_on(session, day=NOW.date())
    assert usage.calls == 2
    assert usage.tokens == good.metadata["tokensUsed"] + rejected.metadata["tokensUsed"]
    assert abs(usage.cost_usd - (cost + rejected.metadata["estimatedCost"])) < 1e-9

    # Spent beyond the cost budget: refused before any request, for this tenant and day only.
    llm_server.mode = "good"
    tight = llm_config(llm_server, llm_daily_cost_budget_usd=cost, llm_daily_token_budget=0)
    requests = len(llm_server.requests)
    with database.tenant_session(user.tenant_id) as session:
        refused = word(session, config=tight, facts=churn_facts(), now=NOW)
    assert not refused.attempted and "cost budget spent" in refused.metadata["fallbackReason"]
    assert len(llm_server.requests) == requests
    with database.tenant_session(other.tenant_id) as session:
        assert word(session, config=tight, facts=churn_facts(), now=NOW).used
    with database.tenant_session(user.tenant_id) as session:
        assert word(session, config=tight, facts=churn_facts(), now=NOW + timedelta(days=1)).used


def test_a_timeout_is_reported_not_raised(
    database: Database, settings: Settings, llm_server: LlmServer
) -> None:
    user = make_tenant_user(database, settings, slug="llm-slow")
    llm_server.mode = "timeout"
    llm_server.delay = 1.5
    config = llm_config(llm_server, llm_timeout_seconds=0.2)
    with database.tenant_session(user.tenant_id) as session:
        worded = word(session, config=config, facts=churn_facts(), now=NOW)
    with database.tenant_session(user.tenant_id) as session:
        assert budget.usage_on(session, day=NOW.date()).calls == 0
    assert worded.answer is None and worded.metadata["fallbackReason"] == "LLM request timed out"
    assert worded.metadata["tokensUsed"] == 0 and worded.metadata["latencyMs"] >= 200
