"""Ranked leads with their insights, accuracy over a period, and global feature importance,
in the document's shapes."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from propensity.db import Session
from propensity.errors import InvalidInput
from propensity.llm.config import LlmConfig
from propensity.llm.service import template_metadata
from propensity.models import LeadScoringConfig, ModelVersion
from propensity.narratives.scene import Scene, humanize
from propensity.narratives.wording import describe
from propensity.predictions.lead_accuracy import AccuracyCounts
from propensity.serving.lead_ranking import Reasoner, rank_config, top_patterns
from propensity.settings import Settings
from propensity.surfaces.lead_ml import llm_text, payloads

NO_LLM = (
    "No LLM is configured (PROPENSITY_LLM_BASE_URL, PROPENSITY_LLM_MODEL, PROPENSITY_LLM_API_KEY); "
    "reasoning comes from templates"
)


def ranked(
    session: Session,
    *,
    config: LeadScoringConfig,
    limit: int,
    min_score: float,
    min_probability: float,
    use_llm: bool,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    """The ranking filtered and cut to `limit`; insights over the top tier of the whole
    ranking: its size, mean conversion probability and the patterns it shares."""
    started = time.perf_counter()
    ranking = rank_config(session, config_id=config.id, now=now, settings=settings)
    everyone = ranking.leads
    chosen = [r for r in everyone if r.score >= min_score and r.probability >= min_probability][
        :limit
    ]
    reasoner = Reasoner(session)
    top = [r for r in everyone if r.tier == "top"]
    body: dict[str, Any] = {
        "rankings": [payloads.ranked_lead(r, reasoner=reasoner, settings=settings) for r in chosen],
        "insights": {
            "topLeadCount": len(top),
            "avgConversionProbability": (
                round(sum(r.probability for r in top) / len(top), 4) if top else None
            ),
            "commonPatterns": top_patterns(session, ranked=everyone, now=now),
            "rankedLeadCount": len(everyone),
            "unscoredLeadCount": ranking.open_count - len(everyone),
        },
        "textSource": "template",
    }
    reason = NO_LLM if use_llm else "useLLM=false"
    body["llmMetadata"] = template_metadata(
        latency_ms=(time.perf_counter() - started) * 1000, reason=reason, generated_at=now
    )
    if use_llm:
        if LlmConfig.from_settings(settings) is None:
            body["llmFallback"] = NO_LLM
        else:
            llm_text.word_ranking(session, body, settings=settings, now=now)
    return body


def _parse_day(name: str, value: str | None) -> datetime | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"{name} must be an ISO date such as 2026-01-31 (got '{value}')",
            code="BAD_REQUEST",
            details={"field": name},
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_period(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    """[start, end]: a bare endDate includes its whole day."""
    start_at = _parse_day("startDate", start)
    end_at = _parse_day("endDate", end)
    if end_at is not None and end is not None and len(end.strip()) == 10:
        end_at = end_at + timedelta(days=1)
    if start_at is not None and end_at is not None and start_at >= end_at:
        raise InvalidInput(
            "startDate must be before endDate",
            code="BAD_REQUEST",
            details={"startDate": start, "endDate": end},
        )
    return start_at, end_at


def _ratio(accurate: int, total: int) -> float | None:
    return round(accurate / total, 4) if total else None


def accuracy(counts: AccuracyCounts) -> dict[str, Any]:
    """The document's accuracy answer; byType counts validated predictions."""
    return {
        "totalPredictions": counts.total,
        "validatedCount": counts.validated,
        "accurateCount": counts.accurate,
        "accuracy": _ratio(counts.accurate, counts.validated),
        "byType": {
            name: {
                "total": tally.total,
                "accurate": tally.accurate,
                "accuracy": _ratio(tally.accurate, tally.total),
            }
            for name, tally in counts.by_type.items()
        },
    }


def _title(name: str) -> str:
    title = describe(name, Scene(values={}, audience="lead")).title
    # Without a value some wordings describe absence ("Unknown Seniority"): use the name.
    if title.startswith(("Unknown ", "No ")):
        return humanize(name)
    return title


def feature_importance(version: ModelVersion) -> list[dict[str, Any]]:
    """The CONVERSION model's global importance (share of mean |contribution| on its
    development data, summing to 1), largest first, with each feature's group."""
    groups = {str(s.get("name")): str(s.get("group")) for s in version.feature_specs or []}
    shares = sorted(
        (
            (str(name), float(value))
            for name, value in (version.feature_importance or {}).items()
            if isinstance(value, int | float)
        ),
        key=lambda item: (-item[1], item[0]),
    )
    return [
        {
            "name": _title(name),
            "feature": name,
            "importance": round(share, 4),
            "category": groups.get(name, "other"),
        }
        for name, share in shares
    ]
