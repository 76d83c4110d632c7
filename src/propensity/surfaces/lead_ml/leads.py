"""One lead's predictions: find the lead, serve a valid stored prediction or make one.

A stored prediction is reused while it is ACTIVE, inside its validity (24 hours by default,
PROPENSITY_LEAD_PREDICTION_VALIDITY_HOURS) and made by the model active now (a rule-based
one: while rule-based answers are asked for); forceRefresh always makes a new one. A new
prediction supersedes the lead's older ACTIVE ones of its type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.crm.writer import session_tenant
from propensity.errors import InvalidInput, NotFound, Unavailable
from propensity.features import lead_feature_groups
from propensity.models import Lead, Prediction, PredictionStatus
from propensity.predictions.service import score_and_record, validity_for
from propensity.registry.service import ActiveModel
from propensity.registry.service import active_model as registry_active_model
from propensity.settings import Settings
from propensity.surfaces.lead_ml import rules
from propensity.surfaces.lead_ml.priority import DEFAULT_THRESHOLD, lead_score, score_breakdown
from propensity.surfaces.lead_serving import serving_model_id

POPULATION = "lead"
LEAD_TYPES = ("CONVERSION", "TIME_TO_CLOSE", "SCORE", "PRIORITY")
Spend = Callable[[], None]


def parse_lead_id(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise InvalidInput(
            "Invalid lead ID",
            code="BAD_REQUEST",
            details={"leadId": raw, "hint": "A lead ID is a positive integer"},
        )
    return value


def get_lead(session: Session, raw_id: str) -> Lead:
    lead_id = parse_lead_id(raw_id)
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFound("Lead not found", code="NOT_FOUND", details={"leadId": lead_id})
    return lead


def parse_type(value: str | None) -> str:
    text = (value or "CONVERSION").strip().upper()
    if text not in LEAD_TYPES:
        raise InvalidInput(
            f"Invalid prediction type '{value}'",
            code="BAD_REQUEST",
            details={"allowed": list(LEAD_TYPES)},
        )
    return text


def active_model(session: Session, prediction_type: str) -> ActiveModel | None:
    return registry_active_model(session, prediction_type=prediction_type, population=POPULATION)


def require_model(session: Session, prediction_type: str) -> ActiveModel:
    model = active_model(session, prediction_type)
    if model is None:
        hint = f"train one (`propensity train {prediction_type} --tenant <tenant>`)"
        if prediction_type == "CONVERSION":
            hint += ", or ask for the rule-based score with ruleBasedOnly: true"
        raise Unavailable(
            f"No {prediction_type} model is trained for this tenant's leads yet",
            code="MODEL_UNAVAILABLE",
            details={"predictionType": prediction_type, "hint": hint},
        )
    return model


def latest(
    session: Session,
    *,
    lead_id: int,
    prediction_type: str,
    valid_at: datetime | None = None,
) -> Prediction | None:
    query = sa.select(Prediction).where(
        Prediction.lead_id == lead_id, Prediction.prediction_type == prediction_type
    )
    if valid_at is not None:
        query = query.where(
            Prediction.status == PredictionStatus.ACTIVE.value, Prediction.valid_until > valid_at
        )
    return session.scalars(
        query.order_by(Prediction.predicted_at.desc(), Prediction.id.desc()).limit(1)
    ).first()


def is_rule_based(prediction: Prediction) -> bool:
    return (prediction.outputs or {}).get("method") == "rule_based"


def reusable(prediction: Prediction | None, model_id: int | None) -> bool:
    if prediction is None:
        return False
    if model_id is None:
        return prediction.model_version_id is None and is_rule_based(prediction)
    # Batch runs store explanations only for the leads at risk of mattering; a row without
    # one is scored afresh rather than served without its reasons.
    return prediction.model_version_id == model_id and prediction.explanation is not None


def store(
    session: Session,
    *,
    lead_id: int,
    prediction_type: str,
    now: datetime,
    settings: Settings,
    **fields: Any,
) -> Prediction:
    """A new ACTIVE prediction of the lead, superseding its older ACTIVE ones of the type."""
    session.execute(
        sa.update(Prediction)
        .where(
            Prediction.lead_id == lead_id,
            Prediction.prediction_type == prediction_type,
            Prediction.status == PredictionStatus.ACTIVE.value,
        )
        .values(status=PredictionStatus.SUPERSEDED.value)
        .execution_options(synchronize_session=False)
    )
    prediction = Prediction(
        tenant_id=session_tenant(session),
        prediction_type=prediction_type,
        lead_id=lead_id,
        predicted_at=now,
        valid_until=now + validity_for(prediction_type, settings),
        status=PredictionStatus.ACTIVE.value,
        **fields,
    )
    session.add(prediction)
    session.flush()
    return prediction


@dataclass(frozen=True)
class Served:
    prediction: Prediction
    model: ActiveModel | None  # None for the rule-based scorer
    cached: bool


def by_model(
    session: Session,
    *,
    lead: Lead,
    prediction_type: str,
    force: bool,
    settings: Settings,
    now: datetime,
    before_generate: Spend | None = None,
) -> Served:
    """The lead's CONVERSION or TIME_TO_CLOSE prediction by the active model. Flushes."""
    model = require_model(session, prediction_type)
    cached = latest(session, lead_id=lead.id, prediction_type=prediction_type, valid_at=now)
    serving = serving_model_id(
        session, model_id=model.id, prediction_type=prediction_type, lead_id=lead.id
    )
    if not force and reusable(cached, serving):
        assert cached is not None
        return Served(cached, model, True)
    if before_generate is not None:
        before_generate()
    score_and_record(
        session,
        prediction_type=prediction_type,
        kind=None,
        entity_ids=[lead.id],
        as_of=now,
        settings=settings,
    )
    stored = latest(session, lead_id=lead.id, prediction_type=prediction_type)
    assert stored is not None
    return Served(stored, model, False)


def by_rules(
    session: Session,
    *,
    lead: Lead,
    force: bool,
    settings: Settings,
    now: datetime,
    before_generate: Spend | None = None,
) -> Served:
    """The lead's CONVERSION prediction by the documented rule-based scorer. Flushes."""
    cached = latest(session, lead_id=lead.id, prediction_type="CONVERSION", valid_at=now)
    if not force and reusable(cached, None):
        assert cached is not None
        return Served(cached, None, True)
    if before_generate is not None:
        before_generate()
    result = rules.score_lead(lead_feature_groups(session, lead_id=lead.id, as_of=now))
    fired = ", ".join(f"{f['rule'].lower()} (+{f['points']})" for f in result.fired)
    explanation = (
        f"Rule-based score of {result.points} points out of 100 from fit and engagement "
        f"signals: {fired or 'no rule applies to this lead'}. Not a trained model's estimate."
    )
    prediction = store(
        session,
        lead_id=lead.id,
        prediction_type="CONVERSION",
        now=now,
        settings=settings,
        model_version_id=None,
        probability=result.probability,
        predicted_value=None,
        confidence=result.confidence,
        outputs={**result.outputs(), "threshold": DEFAULT_THRESHOLD},
        contributions={"groups": {g: float(p) for g, p in result.by_group.items()}},
        explanation=explanation,
        served_by="rules",
    )
    return Served(prediction, None, False)


def conversion(
    session: Session,
    *,
    lead: Lead,
    force: bool,
    rule_based: bool,
    settings: Settings,
    now: datetime,
    before_generate: Spend | None = None,
) -> Served:
    if rule_based:
        return by_rules(
            session,
            lead=lead,
            force=force,
            settings=settings,
            now=now,
            before_generate=before_generate,
        )
    return by_model(
        session,
        lead=lead,
        prediction_type="CONVERSION",
        force=force,
        settings=settings,
        now=now,
        before_generate=before_generate,
    )


def time_to_close_if_available(
    session: Session, *, lead: Lead, settings: Settings, now: datetime, force: bool = False
) -> Prediction | None:
    """The lead's valid TIME_TO_CLOSE prediction (made when missing) when that model is
    active; None otherwise. The CONVERSION answer quotes its days."""
    if active_model(session, "TIME_TO_CLOSE") is None:
        return None
    return by_model(
        session,
        lead=lead,
        prediction_type="TIME_TO_CLOSE",
        force=force,
        settings=settings,
        now=now,
    ).prediction


def score(
    session: Session,
    *,
    lead: Lead,
    force: bool,
    settings: Settings,
    now: datetime,
    before_generate: Spend | None = None,
) -> Served:
    """The lead's SCORE prediction, derived from its model CONVERSION prediction. Flushes."""
    model = require_model(session, "CONVERSION")
    cached = latest(session, lead_id=lead.id, prediction_type="SCORE", valid_at=now)
    serving = serving_model_id(
        session, model_id=model.id, prediction_type="CONVERSION", lead_id=lead.id
    )
    if not force and cached is not None and cached.model_version_id == serving:
        return Served(cached, model, True)
    source = by_model(
        session,
        lead=lead,
        prediction_type="CONVERSION",
        force=force,
        settings=settings,
        now=now,
        before_generate=before_generate,
    ).prediction
    probability = float(source.probability or 0.0)
    value = lead_score(probability)
    groups = (source.contributions or {}).get("groups") or {}
    outputs = dict(source.outputs or {})
    outputs.update(
        {
            "scoreBreakdown": score_breakdown(value, groups),
            "conversionPredictionId": source.id,
        }
    )
    prediction = store(
        session,
        lead_id=lead.id,
        prediction_type="SCORE",
        now=now,
        settings=settings,
        # The model that made the conversion it derives from (a challenger's, when routed).
        model_version_id=source.model_version_id,
        probability=probability,
        predicted_value=float(value),
        confidence=source.confidence,
        outputs=outputs,
        contributions={"groups": groups},
        explanation=source.explanation,
        served_by=source.served_by,
    )
    return Served(prediction, model, cached=False)
