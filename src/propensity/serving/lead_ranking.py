"""A configuration's open leads ranked by priority (predictions/lead_scores.py has the
formula), the PRIORITY predictions recorded from that ranking, each ranked lead's reasoning
and the patterns the top tier shares.

Ranked are the configuration's open leads (neither converted nor lost) with a valid CONVERSION
answer (serving.service.current_many: by the model that serves the lead now, or by the
rule-based scorer); ranks and tiers are computed over all of them, so a lead's rank does not
depend on a request's filters. A PRIORITY is recorded afresh each time it is asked for: its
rank is relative to the other leads' answers, which change as they are scored.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, undefer

from propensity.crm.lead_configs import known_deal_values, open_leads
from propensity.features import build_scoring_frame
from propensity.modeling.specs import FeatureSpec
from propensity.models import Lead, ModelVersion, Prediction
from propensity.narratives import PredictionFacts, common_patterns, lead_reasoning
from propensity.narratives.leads import MAX_PATTERNS
from propensity.predictions.lead_scores import (
    Days,
    lead_score,
    priority_score,
    threshold_of,
    tier_for_rank,
    value_reference,
)
from propensity.predictions.scoring import Scored
from propensity.predictions.service import record_predictions
from propensity.serving.leads import LEAD
from propensity.serving.routing import CHAMPION
from propensity.serving.service import ID_CHUNK, current_many
from propensity.settings import Settings
from propensity.vocabulary import PredictionType


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


@dataclass(frozen=True)
class Ranking:
    """The ranked leads, best first, and how many open leads the configuration has (those
    without a valid conversion are not ranked)."""

    leads: list[RankedLead]
    open_count: int


def rank_config(session: Session, *, config_id: int, now: datetime, settings: Settings) -> Ranking:
    """The configuration's open leads with a valid CONVERSION answer, ranked by priority
    score (ties by probability, then lead id) and tiered by rank percentile.

    The ranking reads the predictions' numbers only: their JSON (outputs, contributions,
    explanation) is deferred, decoding it for every open lead was most of the cost, and
    loads when read (`load_details` loads it for a page of ranked leads in one query)."""
    leads = open_leads(session, config_id=config_id)
    conversions = current_many(
        session,
        prediction_type=PredictionType.CONVERSION,
        population=LEAD,
        entity_ids=[lead.id for lead in leads],
        now=now,
        rules=True,
        light=True,
    )
    times = current_many(
        session,
        prediction_type=PredictionType.TIME_TO_CLOSE,
        population=LEAD,
        entity_ids=list(conversions),
        now=now,
        light=True,
    )
    median_days = _median_days(session, (served.prediction for served in times.values()))
    values = known_deal_values(session, config_id=config_id) or known_deal_values(
        session, config_id=None
    )
    median_value, reference = value_reference(values)
    ranked: list[RankedLead] = []
    for lead in leads:
        served = conversions.get(lead.id)
        prediction = None if served is None else served.prediction
        if prediction is None or prediction.probability is None:
            continue
        timed = times.get(lead.id)
        days = None if timed is None else median_days.get(timed.prediction.id)
        value = lead.deal_value if lead.deal_value is not None else lead.budget
        ranked.append(
            RankedLead(
                lead=lead,
                conversion=prediction,
                days=days,
                priority_score=priority_score(
                    probability=float(prediction.probability),
                    value=value,
                    median_value=median_value,
                    reference_value=reference,
                    days=days,
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
    return Ranking(leads=ranked, open_count=len(leads))


def _median_days(session: Session, predictions: Iterable[Prediction]) -> dict[int, int]:
    """The days `lead_scores.days_of(p).median` gives for these TIME_TO_CLOSE predictions,
    by prediction id, without decoding their outputs: days_of answers for a prediction with
    a value and a "p10Days" output (whose presence SQL reads from the JSON), and its median
    is that value, capped; the interval is not needed to rank."""
    values = {p.id: float(p.predicted_value) for p in predictions if p.predicted_value is not None}
    ids = list(values)
    out: dict[int, int] = {}
    for start in range(0, len(ids), ID_CHUNK):
        with_interval = session.scalars(
            sa.select(Prediction.id).where(
                Prediction.id.in_(ids[start : start + ID_CHUNK]),
                Prediction.outputs["p10Days"].as_float().is_not(None),
            )
        )
        for prediction_id in with_interval:
            value = values[prediction_id]
            out[prediction_id] = Days.of(value, value, value).median
    return out


def load_details(session: Session, ranked: Iterable[RankedLead]) -> None:
    """Loads the deferred JSON (outputs, contributions, explanation) of these ranked leads'
    conversions in one query per ID_CHUNK, so that showing a page of them (level, reasoning,
    drivers) does not read them one row at a time."""
    pending = [
        item.conversion.id for item in ranked if "outputs" in sa.inspect(item.conversion).unloaded
    ]
    for start in range(0, len(pending), ID_CHUNK):
        session.scalars(
            sa.select(Prediction)
            .where(Prediction.id.in_(pending[start : start + ID_CHUNK]))
            .options(
                undefer(Prediction.outputs),
                undefer(Prediction.contributions),
                undefer(Prediction.explanation),
            )
        ).all()


def _priority(item: RankedLead, *, config_id: int, count: int) -> Scored:
    conversion = item.conversion
    outputs = conversion.outputs or {}
    return Scored(
        entity_id=item.lead.id,
        external_id=item.lead.external_id,
        probability=item.probability,
        predicted_value=item.priority_score,
        confidence=float(conversion.confidence or 0.0),
        outputs={
            # The priority rests on the conversion: its drivers and advice are the lead's.
            "riskFactors": outputs.get("riskFactors") or [],
            "recommendations": outputs.get("recommendations") or [],
            "priorityRank": item.rank,
            "priorityTier": item.tier,
            "rankedLeads": count,
            "predictedDays": item.days,
            "conversionPredictionId": conversion.id,
            "configId": config_id,
        },
        contributions={},
        explanation=(
            f"Rank {item.rank} of {count} open leads in this configuration "
            f"(tier {item.tier}) by expected value: conversion probability, deal value "
            "and time to close."
        ),
        served_by=conversion.served_by or CHAMPION,
        model_version_id=conversion.model_version_id,
    )


def record_priorities(
    session: Session,
    *,
    config_id: int,
    lead_ids: Collection[int],
    now: datetime,
    settings: Settings,
) -> int:
    """Ranks the configuration now and records a PRIORITY prediction (rank, tier, priority
    score) for each of `lead_ids` that is ranked, made from its conversion's model; commits.
    Returns how many were recorded. For the lead-ml bulk request, which re-ranks the leads it
    answered."""
    started = time.perf_counter()
    ranked = rank_config(session, config_id=config_id, now=now, settings=settings).leads
    chosen = set(lead_ids)
    load_details(session, (item for item in ranked if item.lead.id in chosen))
    results = [
        _priority(item, config_id=config_id, count=len(ranked))
        for item in ranked
        if item.lead.id in chosen
    ]
    # Each priority's share of ranking the configuration and building them.
    share = (time.perf_counter() - started) * 1000 / max(len(results), 1)
    written = record_predictions(
        session,
        prediction_type=PredictionType.PRIORITY.value,
        population=LEAD,
        as_of=now,
        results=results,
        settings=settings,
        latency_ms=round(share, 3),
    )
    session.commit()
    return written


class Reasoner:
    """Why a lead ranks where it does: narratives.lead_reasoning over its conversion's stored
    explanation, with its model's definitions and training statistics (loaded once per model
    version); the rules that fired for a rule-based conversion."""

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
            prediction_type=PredictionType.CONVERSION.value,
            contributions=contributions.get("features") or {},
            values=contributions.get("values") or {},
            definitions=[FeatureSpec.from_dict(s) for s in (version.feature_specs or [])]
            if version is not None
            else (),
            feature_stats=(version.feature_stats or {}) if version is not None else None,
            probability=prediction.probability,
            threshold=threshold_of(prediction),
            horizon_days=version.horizon_days if version is not None else None,
        )
        return lead_reasoning(facts=facts)


def top_patterns(session: Session, *, ranked: list[RankedLead], now: datetime) -> list[str]:
    """narratives.common_patterns of the top tier against every ranked lead, over the
    CONVERSION features of those leads, one per trait."""
    top = [r.lead.id for r in ranked if r.tier == "top"]
    if not top:
        return []
    frame = build_scoring_frame(
        session,
        prediction_type=PredictionType.CONVERSION.value,
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
