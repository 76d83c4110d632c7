"""Closing within a timeframe, from the active TIME_TO_CLOSE survival model: P(close within N
days), the predicted median days and the model's confidence, per lead.

Computed from the model directly for any N (its stored predictions only hold the model's own
horizon); nothing is stored. The ML platform's `POST /predict/conversion` reads it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from propensity.modeling import SurvivalModel, load_model
from propensity.models import ModelVersion
from propensity.predictions.scoring import model_frame
from propensity.registry.service import active_version, artifact_cache
from propensity.vocabulary import Population, PredictionType


@dataclass(frozen=True)
class Timing:
    within: float  # P(closing within the timeframe)
    median_days: float
    confidence: float


def close_within(
    session: Session, *, lead_ids: Sequence[int], days: int, now: datetime
) -> tuple[ModelVersion, dict[int, Timing]] | None:
    """The active TIME_TO_CLOSE model and, per lead it has features for, the lead's chance of
    closing within `days` as of `now`; None when no such model is active (the caller then
    falls back on the CONVERSION model's own horizon)."""
    version = active_version(
        session,
        prediction_type=PredictionType.TIME_TO_CLOSE.value,
        population=Population.LEAD.value,
    )
    if version is None:
        return None
    model = artifact_cache.get(session, version=version, loader=load_model)
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
