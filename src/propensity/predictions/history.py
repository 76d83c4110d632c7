"""The predictions kept for a customer: its history, as listings show it (which one is the
answer served now is the serving package's decision, not this module's)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.models import Prediction, PredictionStatus
from propensity.vocabulary import PredictionType


def customer_predictions(
    session: Session,
    *,
    customer_id: int,
    prediction_types: Sequence[PredictionType],
    include_expired: bool,
    now: datetime,
    limit: int,
) -> list[Prediction]:
    """The customer's predictions of these types, newest first, at most `limit`. Without
    `include_expired` only those in force now (ACTIVE and inside their validity window);
    with it every one kept, superseded and expired ones included, with their validation
    outcome. For the customer-success document's prediction listing."""
    query = sa.select(Prediction).where(
        Prediction.customer_id == customer_id,
        Prediction.prediction_type.in_([t.value for t in prediction_types]),
    )
    if not include_expired:
        query = query.where(
            Prediction.status == PredictionStatus.ACTIVE.value, Prediction.valid_until > now
        )
    return list(
        session.scalars(
            query.order_by(Prediction.predicted_at.desc(), Prediction.id.desc()).limit(limit)
        )
    )
