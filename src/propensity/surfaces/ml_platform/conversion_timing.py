"""Conversion within a timeframe from the TIME_TO_CLOSE survival model: P(close within N
days), the predicted median days, and the band the median falls in.

Computed from the model directly for any N (its stored predictions only hold the model's own
horizon); nothing is stored."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.errors import InvalidInput
from propensity.modeling import SurvivalModel
from propensity.models import ModelStatus, ModelVersion
from propensity.predictions.scoring import model_frame, resolve_model

TIMEFRAME = re.compile(r"^([1-9][0-9]{0,2})d$")
MAX_TIMEFRAME_DAYS = 365
# (upper bound in days, label): the median's band; beyond a year is capped like lead-ml's
# predictedDays (MAX_DAYS 365).
BANDS = (
    (7.0, "0-7 days"),
    (15.0, "7-15 days"),
    (30.0, "15-30 days"),
    (60.0, "30-60 days"),
    (90.0, "60-90 days"),
    (180.0, "90-180 days"),
    (365.0, "180-365 days"),
)
BEYOND = "over 365 days"


def parse_timeframe(value: object) -> int:
    text = "30d" if value is None else str(value).strip().lower()
    match = TIMEFRAME.match(text)
    if match is None or int(match.group(1)) > MAX_TIMEFRAME_DAYS:
        raise InvalidInput(
            f"Invalid timeframe '{value}': give days as e.g. 7d, 30d or 90d "
            f"(1d to {MAX_TIMEFRAME_DAYS}d)",
            code="VALIDATION_ERROR",
            details={"field": "timeframe"},
        )
    return int(match.group(1))


def band(median_days: float) -> str:
    for upper, label in BANDS:
        if median_days <= upper:
            return label
    return BEYOND


@dataclass(frozen=True)
class Timing:
    within: float  # P(closing within the timeframe)
    median_days: float
    confidence: float


def has_time_to_close(session: Session) -> bool:
    return (
        session.scalars(
            sa.select(ModelVersion.id).where(
                ModelVersion.prediction_type == "TIME_TO_CLOSE",
                ModelVersion.population == "lead",
                ModelVersion.status == ModelStatus.ACTIVE.value,
            )
        ).first()
        is not None
    )


def timings(
    session: Session, *, lead_ids: Sequence[int], days: int, now: datetime
) -> tuple[ModelVersion, dict[int, Timing]] | None:
    """Per lead, from the active TIME_TO_CLOSE model; None when no such model is active."""
    if not has_time_to_close(session):
        return None
    version, model = resolve_model(session, prediction_type="TIME_TO_CLOSE")
    assert isinstance(model, SurvivalModel)
    frame = model_frame(session, version=version, model=model, entity_ids=lead_ids, as_of=now)
    if len(frame.frame) == 0:
        return version, {}
    prepared = model.prepare(frame.frame)
    within = model.probability_within(prepared, float(days))
    median = model.predict_median(prepared)
    confidence = model.confidence(prepared)
    return version, {
        int(lead): Timing(float(within[i]), float(median[i]), float(confidence[i]))
        for i, lead in enumerate(frame.entity_ids)
    }
