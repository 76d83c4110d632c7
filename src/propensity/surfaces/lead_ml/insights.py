"""Ranked leads with their insights, accuracy over a period, and global feature importance."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.errors import InvalidInput
from propensity.llm.config import LlmConfig
from propensity.models import Lead, LeadScoringConfig, ModelVersion, Prediction
from propensity.narratives.scene import Scene, humanize
from propensity.narratives.wording import describe
from propensity.settings import Settings
from propensity.surfaces.lead_ml import leads, llm_text, ranking

JUDGED = ("CONVERSION", "TIME_TO_CLOSE")
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
    everyone = ranking.rank(session, config=config, settings=settings, now=now)
    chosen = [r for r in everyone if r.score >= min_score and r.probability >= min_probability][
        :limit
    ]
    reasoner = ranking.Reasoner(session)
    top = [r for r in everyone if r.tier == "top"]
    open_count = int(
        session.scalar(
            sa.select(sa.func.count()).select_from(ranking.open_leads(config.id).subquery())
        )
        or 0
    )
    body: dict[str, Any] = {
        "rankings": [ranking.entry(r, reasoner=reasoner, settings=settings) for r in chosen],
        "insights": {
            "topLeadCount": len(top),
            "avgConversionProbability": (
                round(sum(r.probability for r in top) / len(top), 4) if top else None
            ),
            "commonPatterns": ranking.patterns(session, ranked=everyone, now=now),
            "rankedLeadCount": len(everyone),
            "unscoredLeadCount": open_count - len(everyone),
        },
        "textSource": "template",
        "llmMetadata": None,
    }
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


def accuracy(
    session: Session, *, config_id: int, start: datetime | None, end: datetime | None
) -> dict[str, Any]:
    """Predictions of the configuration's leads made in the period; validated ones are those
    judged (automatically or by a person) with a verdict; byType counts validated ones."""
    query = (
        sa.select(Prediction.prediction_type, Prediction.was_accurate, sa.func.count())
        .join(Lead, Lead.id == Prediction.lead_id)
        .where(Lead.config_id == config_id)
        .group_by(Prediction.prediction_type, Prediction.was_accurate)
    )
    if start is not None:
        query = query.where(Prediction.predicted_at >= start)
    if end is not None:
        query = query.where(Prediction.predicted_at < end)
    total = validated = accurate = 0
    by_type: dict[str, dict[str, Any]] = {t: {"total": 0, "accurate": 0} for t in JUDGED}
    for ptype, was_accurate, count in session.execute(query).all():
        total += int(count)
        if was_accurate is None:
            continue
        entry = by_type.setdefault(str(ptype), {"total": 0, "accurate": 0})
        entry["total"] += int(count)
        validated += int(count)
        if was_accurate:
            entry["accurate"] += int(count)
            accurate += int(count)
    for entry in by_type.values():
        entry["accuracy"] = round(entry["accurate"] / entry["total"], 4) if entry["total"] else None
    return {
        "totalPredictions": total,
        "validatedCount": validated,
        "accurateCount": accurate,
        "accuracy": round(accurate / validated, 4) if validated else None,
        "byType": by_type,
    }


def _title(name: str) -> str:
    title = describe(name, Scene(values={}, audience="lead")).title
    # Without a value some wordings describe absence ("Unknown Seniority"): use the name.
    if title.startswith(("Unknown ", "No ")):
        return humanize(name)
    return title


def feature_importance(session: Session) -> list[dict[str, Any]]:
    """The active CONVERSION model's global importance (share of mean |contribution| on its
    development data, summing to 1), largest first, with each feature's group."""
    model = leads.require_model(session, "CONVERSION")
    version = session.get(ModelVersion, model.id)
    assert version is not None
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
