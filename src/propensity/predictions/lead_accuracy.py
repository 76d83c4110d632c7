"""How accurate the lead predictions of a lead-scoring configuration were, and a person's
verdict on one of them (the lead-ml document's accuracy and validate requests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.models import Lead, Prediction
from propensity.predictions.lead_validation import LEAD_JUDGED_TYPES, validate_expired_leads


@dataclass
class Tally:
    total: int = 0
    accurate: int = 0


@dataclass(frozen=True)
class AccuracyCounts:
    """Predictions made in a period: all of them, those validated (judged automatically or
    by a person) and those judged accurate; `by_type` counts the validated ones per type,
    with every judged type listed."""

    total: int
    validated: int
    accurate: int
    by_type: dict[str, Tally] = field(default_factory=dict)


def config_accuracy(
    session: Session,
    *,
    config_id: int,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
) -> AccuracyCounts:
    """Judges the configuration's expired lead predictions whose outcome is now known first
    (validate_expired_leads: the judgement only records facts already in the data) and
    commits, then counts the predictions of the configuration's leads made in [start, end)."""
    members = sa.select(Lead.id).where(Lead.config_id == config_id)
    validate_expired_leads(session, now=now, lead_ids=members)
    session.commit()
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
    by_type = {t: Tally() for t in LEAD_JUDGED_TYPES}
    for prediction_type, was_accurate, count in session.execute(query).all():
        total += int(count)
        if was_accurate is None:
            continue
        tally = by_type.setdefault(str(prediction_type), Tally())
        tally.total += int(count)
        validated += int(count)
        if was_accurate:
            tally.accurate += int(count)
            accurate += int(count)
    return AccuracyCounts(total=total, validated=validated, accurate=accurate, by_type=by_type)


def record_lead_verdict(
    session: Session, *, prediction_id: int, was_accurate: bool, now: datetime
) -> bool:
    """Records a person's verdict on one lead prediction (it overrides an automatic one) and
    commits; False when the tenant has no lead prediction with this id."""
    prediction = session.get(Prediction, prediction_id)
    if prediction is None or prediction.lead_id is None:
        return False
    prediction.was_accurate = was_accurate
    prediction.validated_at = now
    session.commit()
    return True
