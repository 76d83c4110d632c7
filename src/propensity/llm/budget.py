"""The per-tenant daily LLM budget, in tokens and/or estimated cost, per UTC day.

Usage lives in the llm_usage table (one row per tenant and day), so every API process and
worker sees the same spend. The check comes before a call and the spend is added after it,
so concurrent calls can overshoot by the answers in flight; the next call is then refused.
Tokens of rejected answers count: they were spent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from propensity.crm.writer import session_tenant
from propensity.llm.config import LlmConfig
from propensity.models import LlmUsage


@dataclass(frozen=True, kw_only=True)
class DayUsage:
    day: date
    calls: int
    tokens: int
    cost_usd: float


def usage_on(session: Session, *, day: date) -> DayUsage:
    row = session.execute(
        sa.select(
            LlmUsage.calls,
            LlmUsage.prompt_tokens + LlmUsage.completion_tokens,
            LlmUsage.cost_usd,
        ).where(LlmUsage.day == day)
    ).first()
    if row is None:
        return DayUsage(day=day, calls=0, tokens=0, cost_usd=0.0)
    return DayUsage(day=day, calls=int(row[0]), tokens=int(row[1]), cost_usd=float(row[2]))


def exhausted(config: LlmConfig, usage: DayUsage) -> str | None:
    """Why the day's budget allows no more calls, or None. A budget of 0 is no limit."""
    if config.daily_token_budget and usage.tokens >= config.daily_token_budget:
        return (
            f"Daily LLM token budget spent ({usage.tokens} of {config.daily_token_budget} "
            "tokens today, UTC)"
        )
    if config.daily_cost_budget_usd and usage.cost_usd >= config.daily_cost_budget_usd:
        return (
            f"Daily LLM cost budget spent (${usage.cost_usd:.4f} of "
            f"${config.daily_cost_budget_usd:.4f} today, UTC)"
        )
    return None


def spend(
    session: Session,
    *,
    now: datetime,
    prompt_tokens: int,
    completion_tokens: int,
    cost_usd: float,
) -> None:
    """Adds one call to the tenant's row of the day (created on first use). The caller
    commits. An increment in SQL, so concurrent writers add rather than overwrite."""
    day = now.date()
    values = {
        "calls": LlmUsage.calls + 1,
        "prompt_tokens": LlmUsage.prompt_tokens + prompt_tokens,
        "completion_tokens": LlmUsage.completion_tokens + completion_tokens,
        "cost_usd": LlmUsage.cost_usd + cost_usd,
        "updated_at": now,
    }
    update = (
        sa.update(LlmUsage)
        .where(LlmUsage.day == day)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if int(session.execute(update).rowcount or 0):  # type: ignore[attr-defined]
        return
    try:
        with session.begin_nested():
            session.add(
                LlmUsage(
                    tenant_id=session_tenant(session),
                    day=day,
                    calls=1,
                    prompt_tokens=prompt_tokens,
                    completion_tokens=completion_tokens,
                    cost_usd=cost_usd,
                    updated_at=now,
                )
            )
    except IntegrityError:
        # Another process created the day's row between the update and the insert.
        session.execute(update)
