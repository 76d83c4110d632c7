"""Queries behind RetainStream: the tenant's B2C subscribers and their CHURN predictions.

Documented rules (also in docs of each endpoint):
- Risk levels are relative to the active model's decision threshold t: High when the
  probability is >= t (the model flags it: these are the "predicted churners" and the
  high-risk list), Medium when >= t / 2, Low below that.
- Distribution buckets start at 0.0, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9 and 1.0; each covers
  [start, next start), so a probability lands in the highest start not above it and the 1.0
  bucket holds only probabilities of exactly 1.0.
- Churn-rate windows end at the tenant's data horizon: the latest login or churn recorded,
  never later than now, so a tenant whose data stops still sees its last real months.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import utcnow
from propensity.models import (
    Customer,
    CustomerKind,
    Event,
    ModelVersion,
    Prediction,
    PredictionStatus,
)
from propensity.predictions.service import score_and_record

PREDICTION_TYPE = "CHURN"
KIND = CustomerKind.SUBSCRIBER.value
BUCKETS = (0.0, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0)
MEDIUM_SHARE_OF_THRESHOLD = 0.5
CHURN_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class ChurnRates:
    current: float
    previous: float


@dataclass(frozen=True)
class RiskRow:
    customer: Customer
    probability: float
    last_activity_at: datetime | None


@dataclass(frozen=True)
class ScoringSummary:
    generated: int
    average_probability: float | None
    as_of: datetime


def _subscribers() -> sa.ColumnElement[bool]:
    return Customer.kind == KIND


def _active_churn() -> sa.ColumnElement[bool]:
    return sa.and_(
        Prediction.prediction_type == PREDICTION_TYPE,
        Prediction.status == PredictionStatus.ACTIVE.value,
        Prediction.probability.is_not(None),
    )


def _active_join() -> sa.Select[Any]:
    """ACTIVE subscriber churn predictions (one per subscriber: scoring supersedes)."""
    return (
        sa.select(sa.func.count(Prediction.id))
        .join(Customer, Customer.id == Prediction.customer_id)
        .where(_active_churn(), _subscribers())
    )


def medium_cutoff(threshold: float) -> float:
    return threshold * MEDIUM_SHARE_OF_THRESHOLD


def risk_level(probability: float, threshold: float) -> str:
    if probability >= threshold:
        return "High"
    if probability >= medium_cutoff(threshold):
        return "Medium"
    return "Low"


def data_horizon(session: Session) -> datetime:
    now = utcnow()
    latest = session.execute(
        sa.select(sa.func.max(Customer.last_login_at), sa.func.max(Customer.churned_at)).where(
            _subscribers()
        )
    ).one()
    stamps = [s for s in latest if s is not None]
    return min(max(stamps), now) if stamps else now


def churn_rate(session: Session, *, start: datetime, end: datetime) -> float:
    """% of the subscribers active at `start` (joined before it, not churned by it) who
    churned in [start, end)."""
    active_at_start = sa.and_(
        _subscribers(),
        sa.or_(Customer.created_at.is_(None), Customer.created_at < start),
        sa.or_(Customer.churned_at.is_(None), Customer.churned_at >= start),
    )
    churned = sa.case(
        (sa.and_(Customer.churned_at >= start, Customer.churned_at < end), 1), else_=0
    )
    base, lost = session.execute(
        sa.select(sa.func.count(Customer.id), sa.func.coalesce(sa.func.sum(churned), 0)).where(
            active_at_start
        )
    ).one()
    return round(100.0 * int(lost) / int(base), 1) if base else 0.0


def churn_rates(session: Session) -> ChurnRates:
    end = data_horizon(session)
    start = end - CHURN_WINDOW
    return ChurnRates(
        current=churn_rate(session, start=start, end=end),
        previous=churn_rate(session, start=start - CHURN_WINDOW, end=start),
    )


def flagged_count(session: Session, *, threshold: float) -> int:
    query = _active_join().where(Prediction.probability >= threshold)
    return int(session.scalar(query) or 0)


def previous_run_flagged(session: Session, *, threshold: float) -> int | None:
    """Flagged subscribers (at today's threshold) as the portfolio stood just before the
    latest scoring run: each subscriber's newest prediction older than that run, read from
    prediction history. None when there is no earlier run."""
    subscriber_churn = sa.and_(
        Prediction.prediction_type == PREDICTION_TYPE,
        Prediction.customer_id.in_(sa.select(Customer.id).where(_subscribers())),
    )
    latest = session.scalar(
        sa.select(sa.func.max(Prediction.predicted_at)).where(
            subscriber_churn, Prediction.status == PredictionStatus.ACTIVE.value
        )
    )
    if latest is None:
        return None
    before = (
        sa.select(
            Prediction.customer_id.label("cid"), sa.func.max(Prediction.predicted_at).label("at")
        )
        .where(subscriber_churn, Prediction.predicted_at < latest)
        .group_by(Prediction.customer_id)
        .subquery()
    )
    scored, flagged = session.execute(
        sa.select(
            sa.func.count(sa.distinct(before.c.cid)),
            sa.func.count(
                sa.distinct(sa.case((Prediction.probability >= threshold, before.c.cid)))
            ),
        )
        .select_from(before)
        .outerjoin(
            Prediction,
            sa.and_(
                Prediction.customer_id == before.c.cid,
                Prediction.predicted_at == before.c.at,
                Prediction.prediction_type == PREDICTION_TYPE,
            ),
        )
    ).one()
    return int(flagged or 0) if scored else None


def active_count(session: Session) -> int:
    return int(session.scalar(_active_join()) or 0)


def distribution(session: Session) -> list[tuple[float, int]]:
    p = Prediction.probability
    bucket = sa.case(
        *[(p >= start, start) for start in reversed(BUCKETS[1:])], else_=BUCKETS[0]
    ).label("bucket")
    rows = session.execute(
        sa.select(bucket, sa.func.count(Prediction.id))
        .join(Customer, Customer.id == Prediction.customer_id)
        .where(_active_churn(), _subscribers())
        .group_by(bucket)
    ).all()
    counts = {round(float(b), 1): int(n) for b, n in rows}
    return [(start, counts.get(start, 0)) for start in BUCKETS]


def risk_segments(session: Session, *, threshold: float) -> dict[str, int]:
    p = Prediction.probability
    level = sa.case(
        (p >= threshold, "High"), (p >= medium_cutoff(threshold), "Medium"), else_="Low"
    ).label("level")
    rows = session.execute(
        sa.select(level, sa.func.count(Prediction.id))
        .join(Customer, Customer.id == Prediction.customer_id)
        .where(_active_churn(), _subscribers())
        .group_by(level)
    ).all()
    counts = {str(name): int(n) for name, n in rows}
    return {name: counts.get(name, 0) for name in ("High", "Medium", "Low")}


def _latest_events(session: Session, customer_ids: list[int]) -> dict[int, datetime]:
    if not customer_ids:
        return {}
    rows = session.execute(
        sa.select(Event.customer_id, sa.func.max(Event.occurred_at))
        .where(Event.customer_id.in_(customer_ids))
        .group_by(Event.customer_id)
    ).all()
    return {int(cid): at for cid, at in rows if cid is not None and at is not None}


def _last_activity(customer: Customer, event_at: datetime | None) -> datetime | None:
    stamps = [s for s in (customer.last_login_at, event_at) if s is not None]
    return max(stamps) if stamps else None


def high_risk_page(
    session: Session, *, threshold: float, page: int, limit: int
) -> tuple[list[RiskRow], int]:
    """Flagged subscribers (probability >= threshold), most likely to churn first."""
    total = flagged_count(session, threshold=threshold)
    rows = session.execute(
        sa.select(Customer, Prediction.probability)
        .join(Prediction, Prediction.customer_id == Customer.id)
        .where(_active_churn(), _subscribers(), Prediction.probability >= threshold)
        .order_by(Prediction.probability.desc(), Customer.id)
        .offset((page - 1) * limit)
        .limit(limit)
    ).all()
    events = _latest_events(session, [c.id for c, _ in rows])
    return [
        RiskRow(c, float(p or 0.0), _last_activity(c, events.get(c.id))) for c, p in rows
    ], total


def find_subscriber(session: Session, customer_id: str) -> Customer | None:
    """By external id first; a number that is no external id is read as the internal id."""
    by_external = session.scalars(
        sa.select(Customer).where(_subscribers(), Customer.external_id == customer_id)
    ).first()
    if by_external is not None or not customer_id.isdigit():
        return by_external
    return session.scalars(
        sa.select(Customer).where(_subscribers(), Customer.id == int(customer_id))
    ).first()


def latest_prediction(session: Session, customer: Customer) -> Prediction | None:
    """The ACTIVE churn prediction, else the most recent one of any status."""
    status_rank = sa.case((Prediction.status == PredictionStatus.ACTIVE.value, 0), else_=1)
    return session.scalars(
        sa.select(Prediction)
        .where(Prediction.customer_id == customer.id, Prediction.prediction_type == PREDICTION_TYPE)
        .order_by(status_rank, Prediction.predicted_at.desc(), Prediction.id.desc())
        .limit(1)
    ).first()


def latest_results(session: Session, *, limit: int) -> list[tuple[str, Prediction]]:
    rows = session.execute(
        sa.select(Customer.external_id, Prediction)
        .join(Customer, Customer.id == Prediction.customer_id)
        .where(_active_churn(), _subscribers())
        .order_by(Prediction.predicted_at.desc(), Prediction.probability.desc(), Prediction.id)
        .limit(limit)
    ).all()
    return [(str(ext), pred) for ext, pred in rows]


def sample_for_scoring(session: Session, *, size: int) -> list[int]:
    """Live subscribers whose churn prediction is missing or oldest, so that repeated runs
    walk through the whole base deterministically."""
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
            _subscribers(),
            Customer.churned_at.is_(None),
            sa.or_(Customer.churned.is_(None), Customer.churned.is_(False)),
        )
        .order_by(never_scored, latest.c.at, Customer.id)
        .limit(size)
    )
    return [int(cid) for cid in session.scalars(query)]


def score_sample(session: Session, *, size: int) -> ScoringSummary:
    """Scores and records a deterministic sample of live subscribers, then commits."""
    ids = sample_for_scoring(session, size=size)
    as_of = utcnow()
    if not ids:
        return ScoringSummary(0, None, as_of)
    run = score_and_record(session, prediction_type=PREDICTION_TYPE, kind=KIND, entity_ids=ids)
    session.commit()
    probabilities = [r.probability for r in run.results if r.probability is not None]
    average = round(sum(probabilities) / len(probabilities), 4) if probabilities else None
    return ScoringSummary(len(run.results), average, run.as_of)


def threshold_of(version: ModelVersion) -> float:
    return float(version.threshold if version.threshold is not None else 0.5)


def subscription_age_months(customer: Customer) -> int | None:
    """Whole 30-day months from sign-up to churn (or now); the recorded tenure when the
    sign-up date is unknown."""
    if customer.created_at is None:
        return None if customer.tenure_months is None else round(customer.tenure_months)
    end = customer.churned_at or utcnow()
    start = customer.created_at
    if start.tzinfo is None or end.tzinfo is None:
        start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    return max(0, (end - start).days // 30)
