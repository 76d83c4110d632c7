"""bulk-predict: score a configuration's open leads in one batch.

Selection: the configuration's open leads by id, skipping those whose latest CONVERSION
score (100 x probability) is below minScore (never-scored leads are kept), at most `limit`.
A lead with a valid prediction by the active model (or a valid rule-based one with
ruleBasedOnly) is answered from it unless forceRefresh. Each lead scored afresh counts one
against the tenant's rate limits, checked before scoring: when the limits run out part-way
the remaining leads get the error "Rate limit reached" and nothing is stored for them; when
not even the first fits, the request is refused with 429. The time to close is scored with
the conversion (no extra count), and the configuration is re-ranked: every lead answered
gets a PRIORITY prediction with its rank, tier and priorityScore.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from propensity.errors import RateLimited
from propensity.models import Lead, LeadScoringConfig
from propensity.predictions.service import score_and_record
from propensity.settings import Settings
from propensity.surfaces.lead_ml import leads, payloads, quotas, ranking
from propensity.surfaces.lead_ml.context import LeadContext
from propensity.surfaces.lead_ml.priority import lead_score
from propensity.surfaces.lead_serving import serving_model_ids

RATE_LIMITED = "Rate limit reached; not scored"
NOT_SCORED = "Lead could not be scored"


def try_spend(request: Request, ctx: LeadContext, response: Response) -> None:
    quotas.spend(request, ctx, response=response)


def _select(
    session: Session, *, config: LeadScoringConfig, limit: int, min_score: float, now: datetime
) -> list[Lead]:
    # Only a score filter needs the leads' latest predictions (their JSON is not small).
    latest = (
        ranking.latest_predictions(session, config_id=config.id, prediction_type="CONVERSION")
        if min_score > 0
        else {}
    )
    chosen: list[Lead] = []
    open_leads: list[Lead] = list(session.scalars(ranking.open_leads(config.id)))
    for lead in open_leads:
        prediction = latest.get(lead.id)
        if (
            min_score > 0
            and prediction is not None
            and prediction.probability is not None
            and lead_score(float(prediction.probability)) < min_score
        ):
            continue
        chosen.append(lead)
        if len(chosen) >= limit:
            break
    return chosen


def bulk_predict(
    session: Session,
    *,
    config: LeadScoringConfig,
    limit: int,
    min_score: float,
    force: bool,
    rule_based: bool,
    settings: Settings,
    now: datetime,
    spend: Callable[[], None],
) -> dict[str, Any]:
    selected = _select(session, config=config, limit=limit, min_score=min_score, now=now)
    ids = [lead.id for lead in selected]
    serving: dict[int, int | None] = (
        dict.fromkeys(ids)
        if rule_based
        else dict(
            serving_model_ids(
                session,
                model_id=leads.require_model(session, "CONVERSION").id,
                prediction_type="CONVERSION",
                lead_ids=ids,
            )
        )
    )
    valid = ranking.valid_predictions(
        session, config_id=config.id, prediction_type="CONVERSION", now=now
    )
    cached_ids = {
        lead.id
        for lead in selected
        if not force and leads.reusable(valid.get(lead.id), serving[lead.id])
    }
    allowed: list[Lead] = []
    refused: set[int] = set()
    for lead in selected:
        if lead.id in cached_ids:
            continue
        if refused:
            refused.add(lead.id)
            continue
        try:
            spend()
        except RateLimited:
            if not allowed:
                raise
            refused.add(lead.id)
            continue
        allowed.append(lead)
    if rule_based:
        for lead in allowed:
            leads.by_rules(session, lead=lead, force=True, settings=settings, now=now)
    elif allowed:
        score_and_record(
            session,
            prediction_type="CONVERSION",
            entity_ids=[lead.id for lead in allowed],
            as_of=now,
            settings=settings,
        )
    answered = [lead for lead in selected if lead.id not in refused]
    times = _times(
        session, config=config, lead_ids=[lead.id for lead in answered], settings=settings, now=now
    )
    conversions = ranking.valid_predictions(
        session, config_id=config.id, prediction_type="CONVERSION", now=now
    )
    _record_priority(
        session, config=config, lead_ids={lead.id for lead in answered}, settings=settings, now=now
    )
    results: list[dict[str, Any]] = []
    for lead in selected:
        prediction = conversions.get(lead.id)
        if lead.id in refused or prediction is None:
            error = RATE_LIMITED if lead.id in refused else NOT_SCORED
            results.append({"leadId": lead.id, "result": None, "error": error})
            continue
        body = payloads.conversion(prediction, time_to_close=times.get(lead.id), settings=settings)
        body["cached"] = lead.id in cached_ids
        results.append({"leadId": lead.id, "result": body, "error": None})
    successful = sum(1 for r in results if r["error"] is None)
    return {
        "processed": len(results),
        "successful": successful,
        "failed": len(results) - successful,
        "scored": len(allowed),
        "cached": len(cached_ids),
        "predictions": results,
    }


def _times(
    session: Session,
    *,
    config: LeadScoringConfig,
    lead_ids: list[int],
    settings: Settings,
    now: datetime,
) -> dict[int, Any]:
    """Valid TIME_TO_CLOSE predictions of these leads, scoring the missing ones when that
    model is active."""
    model = leads.active_model(session, "TIME_TO_CLOSE")
    if model is None:
        return {}
    valid = ranking.valid_predictions(
        session, config_id=config.id, prediction_type="TIME_TO_CLOSE", now=now
    )
    serving = serving_model_ids(
        session, model_id=model.id, prediction_type="TIME_TO_CLOSE", lead_ids=lead_ids
    )
    missing = [
        i for i in lead_ids if valid.get(i) is None or valid[i].model_version_id != serving[i]
    ]
    if missing:
        score_and_record(
            session,
            prediction_type="TIME_TO_CLOSE",
            entity_ids=missing,
            as_of=now,
            settings=settings,
        )
        valid = ranking.valid_predictions(
            session, config_id=config.id, prediction_type="TIME_TO_CLOSE", now=now
        )
    return {i: valid[i] for i in lead_ids if i in valid}


def _record_priority(
    session: Session,
    *,
    config: LeadScoringConfig,
    lead_ids: set[int],
    settings: Settings,
    now: datetime,
) -> None:
    ranked = ranking.rank(session, config=config, settings=settings, now=now)
    for item in ranked:
        if item.lead.id not in lead_ids:
            continue
        leads.store(
            session,
            lead_id=item.lead.id,
            prediction_type="PRIORITY",
            now=now,
            settings=settings,
            model_version_id=item.conversion.model_version_id,
            probability=item.probability,
            predicted_value=item.priority_score,
            confidence=item.conversion.confidence,
            outputs={
                # The priority rests on the conversion: its drivers and advice are the lead's.
                "riskFactors": (item.conversion.outputs or {}).get("riskFactors") or [],
                "recommendations": (item.conversion.outputs or {}).get("recommendations") or [],
                "priorityRank": item.rank,
                "priorityTier": item.tier,
                "rankedLeads": len(ranked),
                "predictedDays": item.days,
                "conversionPredictionId": item.conversion.id,
                "configId": config.id,
            },
            contributions={},
            explanation=(
                f"Rank {item.rank} of {len(ranked)} open leads in this configuration "
                f"(tier {item.tier}) by expected value: conversion probability, deal value "
                "and time to close."
            ),
            served_by=item.conversion.served_by,
        )
