"""Judging expired lead predictions against what really happened (see validation.py for
the customer types and the shared rules).

- CONVERSION, window (predicted_at, predicted_at + horizon]: "converted" when the lead's
  converted_at falls inside it; "not converted" when it was lost inside it or once the data
  covers the whole window without a conversion. Accurate when the decision at the stored
  threshold (probability >= threshold; 0.5 for the rule-based scorer) matches. A lead
  converted before the prediction, or converted without a date, cannot be judged.
- TIME_TO_CLOSE: the actual days = converted_at - predicted_at. Accurate when they fall
  within the stored p10-p90 interval (p10Days, p90Days). The interval is of the time to close
  of a lead that closes (ADR 0017), so only closings are judged: a lead lost without closing
  cannot be judged, and a lead still open waits (a later close past p90 is inaccurate) until
  it has been open OPEN_LEAD_DAYS after the prediction, when it cannot be judged either. A
  lead converted before the prediction cannot be judged.
For leads the data horizon is the latest lead event, conversion or loss, capped at now.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.models import Event, Lead, ModelVersion, Prediction
from propensity.predictions.service import expire_predictions
from propensity.predictions.validation import (
    DEFAULT_HORIZON_DAYS,
    DEFAULT_THRESHOLD,
    Judgement,
    aware,
    judge_outcome,
    record_judgements,
    unjudged,
)

LEAD_JUDGED_TYPES = ("CONVERSION", "TIME_TO_CLOSE")
# A time-to-close prediction of a lead still open this long is left unjudged: the answers cap
# days at a year (ADR 0007), and waiting longer would keep re-reading it.
OPEN_LEAD_DAYS = 365


def judge_conversion(
    *,
    probability: float,
    threshold: float,
    predicted_at: datetime,
    horizon_days: int,
    converted_at: datetime | None,
    converted: bool | None,
    lost_at: datetime | None,
    known_until: datetime,
) -> Judgement | None:
    """The judgement, or None while the outcome is still unknown."""
    predicted_at = aware(predicted_at)
    end = predicted_at + timedelta(days=horizon_days)
    return judge_outcome(
        probability=probability,
        threshold=threshold,
        predicted_at=predicted_at,
        end=end,
        happened_at=converted_at,
        happened=converted,
        # Lost inside the window: it will not convert in it.
        settled=lost_at is not None and predicted_at < aware(lost_at) <= end,
        known_until=known_until,
    )


def judge_time_to_close(
    *,
    p10_days: float,
    p90_days: float,
    predicted_at: datetime,
    converted_at: datetime | None,
    known_until: datetime,
    lost_at: datetime | None = None,
) -> Judgement | None:
    """The judgement, or None while the lead is open and may still close."""
    predicted_at = aware(predicted_at)
    if converted_at is not None:
        converted_at = aware(converted_at)
        if converted_at <= predicted_at:
            return Judgement(None, None)
        actual = (converted_at - predicted_at).total_seconds() / 86400
        return Judgement(p10_days <= actual <= p90_days, round(actual, 4))
    if lost_at is not None and aware(lost_at) <= known_until:
        return Judgement(None, None)  # it will not close: not a closing to judge
    if (known_until - predicted_at).total_seconds() / 86400 > max(p90_days, OPEN_LEAD_DAYS):
        return Judgement(None, None)
    return None


def lead_data_horizon(session: Session, *, now: datetime) -> datetime:
    """The latest lead event, conversion or loss recorded, capped at now."""
    latest = [
        session.scalar(sa.select(sa.func.max(Event.occurred_at)).where(Event.lead_id.is_not(None))),
        session.scalar(sa.select(sa.func.max(Lead.converted_at))),
        session.scalar(sa.select(sa.func.max(Lead.lost_at))),
    ]
    known = [aware(v) for v in latest if v is not None]
    return min(now, max(known)) if known else now


def _lead_verdict(
    prediction: Prediction, lead: Lead, horizon: int | None, known_until: datetime
) -> Judgement | None:
    outputs = prediction.outputs or {}
    if prediction.prediction_type == "CONVERSION":
        if prediction.probability is None:
            return Judgement(None, None)
        threshold = outputs.get("threshold")
        return judge_conversion(
            probability=float(prediction.probability),
            threshold=float(threshold) if threshold is not None else DEFAULT_THRESHOLD,
            predicted_at=prediction.predicted_at,
            horizon_days=int(horizon or DEFAULT_HORIZON_DAYS["CONVERSION"]),
            converted_at=lead.converted_at,
            converted=lead.converted,
            lost_at=lead.lost_at,
            known_until=known_until,
        )
    if "p10Days" not in outputs or "p90Days" not in outputs:
        return Judgement(None, None)
    return judge_time_to_close(
        p10_days=float(outputs["p10Days"]),
        p90_days=float(outputs["p90Days"]),
        predicted_at=prediction.predicted_at,
        converted_at=lead.converted_at,
        known_until=known_until,
        lost_at=lead.lost_at,
    )


def validate_expired_leads(
    session: Session, *, now: datetime, lead_ids: sa.Select[Any] | None = None
) -> int:
    """Judges the lead CONVERSION and TIME_TO_CLOSE predictions whose validity has ended and
    whose outcome is known (optionally only of the leads `lead_ids` selects); returns how many
    were judged. Predictions already validated (by a person or earlier) are left alone."""
    expire_predictions(session, now=now, leads_only=True)
    query = unjudged(
        sa.select(Prediction, Lead, ModelVersion.horizon_days).join(
            Lead, Lead.id == Prediction.lead_id
        ),
        types=LEAD_JUDGED_TYPES,
        now=now,
    )
    if lead_ids is not None:
        query = query.where(Prediction.lead_id.in_(lead_ids))
    candidates = session.execute(query).all()
    if not candidates:
        return 0
    known_until = lead_data_horizon(session, now=now)
    return record_judgements(
        session,
        (
            (prediction, _lead_verdict(prediction, lead, horizon, known_until))
            for prediction, lead, horizon in candidates
        ),
        scope="leads",
        now=now,
    )
