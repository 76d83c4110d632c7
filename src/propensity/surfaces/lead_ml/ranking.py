"""A configuration's leads ranked by priority (priority.py has the formula), with reasoning
and the patterns the top tier shares.

Ranked are the configuration's open leads (neither converted nor lost) that have a valid
CONVERSION prediction; ranks and tiers are computed over all of them before the request's
minScore / minProbability / limit filters, so a lead's rank does not depend on the filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.errors import InvalidInput, NotFound
from propensity.features import build_scoring_frame
from propensity.modeling.specs import FeatureSpec
from propensity.models import Lead, LeadScoringConfig, ModelVersion, Prediction, PredictionStatus
from propensity.narratives import PredictionFacts, common_patterns, lead_reasoning
from propensity.narratives.leads import MAX_PATTERNS
from propensity.settings import Settings
from propensity.surfaces.lead_ml import payloads
from propensity.surfaces.lead_ml.priority import (
    TIERS,
    lead_score,
    priority_score,
    tier_for_rank,
    value_reference,
)


def get_config(session: Session, raw_id: str) -> LeadScoringConfig:
    try:
        config_id = int(raw_id)
    except ValueError:
        config_id = 0
    if config_id <= 0:
        raise InvalidInput(
            "Invalid configuration ID",
            code="BAD_REQUEST",
            details={"configId": raw_id, "hint": "A configuration ID is a positive integer"},
        )
    config = session.get(LeadScoringConfig, config_id)
    if config is None:
        raise NotFound(
            "Lead scoring configuration not found",
            code="NOT_FOUND",
            details={"configId": config_id},
        )
    return config


def open_leads(config_id: int) -> sa.Select[Any]:
    return (
        sa.select(Lead)
        .where(
            Lead.config_id == config_id,
            Lead.converted_at.is_(None),
            Lead.lost_at.is_(None),
            sa.or_(Lead.converted.is_(None), Lead.converted.is_(False)),
        )
        .order_by(Lead.id)
    )


def parse_tier(value: str | None) -> str:
    text = (value or "").strip().lower()
    if text not in TIERS:
        raise InvalidInput(
            f"Invalid tier value '{value}'",
            code="BAD_REQUEST",
            details={"allowed": list(TIERS)},
        )
    return text


@dataclass
class RankedLead:
    lead: Lead
    conversion: Prediction
    days: int | None
    priority_score: float
    rank: int = 0
    tier: str = "low"

    @property
    def probability(self) -> float:
        return float(self.conversion.probability or 0.0)

    @property
    def score(self) -> int:
        return lead_score(self.probability)


def valid_predictions(
    session: Session, *, config_id: int, prediction_type: str, now: datetime
) -> dict[int, Prediction]:
    """Each open lead's valid ACTIVE prediction of the type (the newest when several)."""
    rows = session.scalars(
        sa.select(Prediction)
        .join(Lead, Lead.id == Prediction.lead_id)
        .where(
            Lead.config_id == config_id,
            Prediction.prediction_type == prediction_type,
            Prediction.status == PredictionStatus.ACTIVE.value,
            Prediction.valid_until > now,
        )
        .order_by(Prediction.predicted_at, Prediction.id)
    ).all()
    return {int(p.lead_id or 0): p for p in rows}


def latest_predictions(
    session: Session, *, config_id: int, prediction_type: str
) -> dict[int, Prediction]:
    """Each lead's newest prediction of the type, valid or not."""
    newest = (
        sa.select(sa.func.max(Prediction.id))
        .join(Lead, Lead.id == Prediction.lead_id)
        .where(Lead.config_id == config_id, Prediction.prediction_type == prediction_type)
        .group_by(Prediction.lead_id)
    )
    rows = session.scalars(sa.select(Prediction).where(Prediction.id.in_(newest))).all()
    return {int(p.lead_id or 0): p for p in rows}


def rank(
    session: Session, *, config: LeadScoringConfig, settings: Settings, now: datetime
) -> list[RankedLead]:
    leads: list[Lead] = list(session.scalars(open_leads(config.id)).all())
    conversions = valid_predictions(
        session, config_id=config.id, prediction_type="CONVERSION", now=now
    )
    times = valid_predictions(
        session, config_id=config.id, prediction_type="TIME_TO_CLOSE", now=now
    )
    known = session.execute(
        sa.select(sa.func.coalesce(Lead.deal_value, Lead.budget)).where(Lead.config_id == config.id)
    ).scalars()
    values = [float(v) for v in known if v is not None]
    if not values:
        tenant_values = session.execute(
            sa.select(sa.func.coalesce(Lead.deal_value, Lead.budget))
        ).scalars()
        values = [float(v) for v in tenant_values if v is not None]
    median_value, reference = value_reference(values)
    ranked: list[RankedLead] = []
    for lead in leads:
        prediction = conversions.get(lead.id)
        if prediction is None or prediction.probability is None:
            continue
        time_prediction = times.get(lead.id)
        days = payloads.days_of(time_prediction) if time_prediction is not None else None
        value = lead.deal_value if lead.deal_value is not None else lead.budget
        ranked.append(
            RankedLead(
                lead=lead,
                conversion=prediction,
                days=None if days is None else days.median,
                priority_score=priority_score(
                    probability=float(prediction.probability),
                    value=value,
                    median_value=median_value,
                    reference_value=reference,
                    days=None if days is None else days.median,
                    half_life_days=settings.lead_priority_half_life_days,
                ),
            )
        )
    ranked.sort(key=lambda r: (-r.priority_score, -r.probability, r.lead.id))
    cutoffs = (
        settings.lead_tier_top_percent,
        settings.lead_tier_high_percent,
        settings.lead_tier_medium_percent,
    )
    for position, item in enumerate(ranked, start=1):
        item.rank = position
        item.tier = tier_for_rank(position, len(ranked), cutoffs)
    return ranked


class Reasoner:
    """lead_reasoning over each prediction's stored explanation, with its model's
    definitions and training statistics (loaded once per model version)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._versions: dict[int, ModelVersion | None] = {}

    def _version(self, version_id: int) -> ModelVersion | None:
        if version_id not in self._versions:
            self._versions[version_id] = self._session.get(ModelVersion, version_id)
        return self._versions[version_id]

    def reasoning(self, prediction: Prediction) -> str:
        outputs = prediction.outputs or {}
        if outputs.get("method") == "rule_based":
            fired = [str(f["rule"]) for f in outputs.get("rulesFired") or []]
            return "Rule-based: " + (", ".join(fired).lower() if fired else "no rule applies")
        version = self._version(int(prediction.model_version_id or 0))
        contributions = prediction.contributions or {}
        facts = PredictionFacts.build(
            prediction_type="CONVERSION",
            contributions=contributions.get("features") or {},
            values=contributions.get("values") or {},
            definitions=[FeatureSpec.from_dict(s) for s in (version.feature_specs or [])]
            if version is not None
            else (),
            feature_stats=(version.feature_stats or {}) if version is not None else None,
            probability=prediction.probability,
            threshold=payloads.threshold_of(prediction),
            horizon_days=version.horizon_days if version is not None else None,
        )
        return lead_reasoning(facts=facts)


def entry(item: RankedLead, *, reasoner: Reasoner, settings: Settings) -> dict[str, Any]:
    lead = item.lead
    return {
        "leadId": lead.id,
        "email": lead.email,
        "name": lead.name,
        "company": lead.company,
        "title": lead.title,
        "score": item.score,
        "scoreLevel": payloads.score_level(
            item.probability,
            threshold=payloads.threshold_of(item.conversion),
            settings=settings,
        ),
        "priorityRank": item.rank,
        "priorityTier": item.tier,
        "priorityScore": item.priority_score,
        "conversionProbability": item.probability,
        "predictedDays": item.days,
        "dealValue": lead.deal_value if lead.deal_value is not None else lead.budget,
        "predictionId": item.conversion.id,
        "reasoning": reasoner.reasoning(item.conversion),
    }


def patterns(session: Session, *, ranked: list[RankedLead], now: datetime) -> list[str]:
    """narratives.common_patterns of the top tier against every ranked lead, over the
    CONVERSION features of those leads."""
    top = [r.lead.id for r in ranked if r.tier == "top"]
    if not top:
        return []
    frame = build_scoring_frame(
        session,
        prediction_type="CONVERSION",
        entity_ids=[r.lead.id for r in ranked],
        as_of=now,
    )
    rows: list[dict[str, object]] = [
        {str(k): v for k, v in row.items()} for row in frame.frame.to_dict("records")
    ]
    by_id = {int(i): row for i, row in zip(frame.entity_ids, rows, strict=True)}
    top_rows = [by_id[i] for i in top if i in by_id]
    found = common_patterns(
        top_leads=top_rows,
        all_leads=list(by_id.values()),
        definitions=list(frame.definitions),
        max_patterns=3 * MAX_PATTERNS,
    )
    return distinct_patterns(found)[:MAX_PATTERNS]


def distinct_patterns(patterns: list[str]) -> list[str]:
    """One pattern per label, the strongest (first): features that measure one thing in two
    units (lead age in days and in weeks) would otherwise repeat "Newer leads" twice."""
    seen: set[str] = set()
    out = []
    for pattern in patterns:
        label = pattern.split(" (", 1)[0].strip().lower()
        if label not in seen:
            seen.add(label)
            out.append(pattern)
    return out
