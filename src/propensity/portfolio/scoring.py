"""Scoring a sample of the subscriber portfolio on request (RetainStream's "run prediction"):
a deterministic walk through the live subscribers, least recently scored first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import utcnow
from propensity.models import Customer, Prediction, PredictionStatus
from propensity.portfolio.subscribers import POPULATION, PREDICTION_TYPE, is_subscriber
from propensity.predictions.service import score_and_record


@dataclass(frozen=True)
class ScoringSummary:
    generated: int
    average_probability: float | None
    as_of: datetime


def sample_for_scoring(session: Session, *, size: int) -> list[int]:
    """Up to `size` live subscribers whose churn prediction is missing or oldest, so that
    repeated runs walk through the whole base deterministically."""
    latest = (
        sa.select(
            Prediction.customer_id.label("cid"),
            sa.func.max(Prediction.predicted_at).label("at"),
        )
        .where(
            Prediction.prediction_type == PREDICTION_TYPE,
            Prediction.status == PredictionStatus.ACTIVE.value,
        )
        .group_by(Prediction.customer_id)
        .subquery()
    )
    never_scored = sa.case((latest.c.at.is_(None), 0), else_=1)
    query = (
        sa.select(Customer.id)
        .outerjoin(latest, latest.c.cid == Customer.id)
        .where(
            is_subscriber(),
            Customer.churned_at.is_(None),
            sa.or_(Customer.churned.is_(None), Customer.churned.is_(False)),
        )
        .order_by(never_scored, latest.c.at, Customer.id)
        .limit(size)
    )
    return [int(cid) for cid in session.scalars(query)]


def score_sample(session: Session, *, size: int) -> ScoringSummary:
    """Scores and records a sample of `size` live subscribers (sample_for_scoring) with the
    serving models, superseding their older predictions, and commits. Returns how many were
    scored, their mean probability (None when none was) and the run's time."""
    ids = sample_for_scoring(session, size=size)
    as_of = utcnow()
    if not ids:
        return ScoringSummary(0, None, as_of)
    run = score_and_record(
        session, prediction_type=PREDICTION_TYPE, kind=POPULATION, entity_ids=ids, as_of=as_of
    )
    session.commit()
    probabilities = [r.probability for r in run.results if r.probability is not None]
    average = round(sum(probabilities) / len(probabilities), 4) if probabilities else None
    return ScoringSummary(len(run.results), average, run.as_of)
