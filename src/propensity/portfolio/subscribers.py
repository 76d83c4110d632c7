"""Reads of the subscriber churn portfolio as it stands now: churn rates, predicted churners,
the probability distribution, risk segments, the high-risk list and the newest predictions.

The portfolio is every subscriber with an ACTIVE CHURN prediction (one per subscriber:
recording supersedes the older ones); the risk rules are in portfolio.risk. Churn-rate
windows end at the tenant's data horizon: the latest login or churn recorded, never later
than now, so a tenant whose data stops still sees its last real months.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import utcnow
from propensity.models import Customer, Event, Prediction, PredictionStatus
from propensity.portfolio.risk import BUCKETS, HIGH, LOW, MEDIUM, RISK_LEVELS, medium_cutoff
from propensity.vocabulary import Population, PredictionType

PREDICTION_TYPE = PredictionType.CHURN.value
POPULATION = Population.SUBSCRIBER.value
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


def is_subscriber() -> sa.ColumnElement[bool]:
    return Customer.kind == POPULATION


def is_current_churn() -> sa.ColumnElement[bool]:
    """An ACTIVE churn prediction with a probability: a member of the current portfolio."""
    return sa.and_(
        Prediction.prediction_type == PREDICTION_TYPE,
        Prediction.status == PredictionStatus.ACTIVE.value,
        Prediction.probability.is_not(None),
    )


def _scored(*columns: Any) -> sa.Select[Any]:
    """`columns` over the current subscriber churn predictions."""
    return (
        sa.select(*columns)
        .select_from(Prediction)
        .join(Customer, Customer.id == Prediction.customer_id)
        .where(is_current_churn(), is_subscriber())
    )


def data_horizon(session: Session) -> datetime:
    """The latest subscriber login or churn recorded, never later than now (now if none)."""
    now = utcnow()
    latest = session.execute(
        sa.select(sa.func.max(Customer.last_login_at), sa.func.max(Customer.churned_at)).where(
            is_subscriber()
        )
    ).one()
    stamps = [s for s in latest if s is not None]
    return min(max(stamps), now) if stamps else now


def churn_rate(session: Session, *, start: datetime, end: datetime) -> float:
    """% of the subscribers active at `start` (joined before it, not churned by it) who
    churned in [start, end), to one decimal; 0.0 without any."""
    active_at_start = sa.and_(
        is_subscriber(),
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
    """The churn rate of the last CHURN_WINDOW up to the data horizon, and of the window
    before it (the dashboard's current and previous rates)."""
    end = data_horizon(session)
    start = end - CHURN_WINDOW
    return ChurnRates(
        current=churn_rate(session, start=start, end=end),
        previous=churn_rate(session, start=start - CHURN_WINDOW, end=start),
    )


def scored_count(session: Session) -> int:
    """How many subscribers have a current churn prediction."""
    return int(session.scalar(_scored(sa.func.count(Prediction.id))) or 0)


def flagged_count(session: Session, *, threshold: float) -> int:
    """How many subscribers the current predictions flag (probability >= threshold)."""
    query = _scored(sa.func.count(Prediction.id)).where(Prediction.probability >= threshold)
    return int(session.scalar(query) or 0)


def previous_run_flagged(session: Session, *, threshold: float) -> int | None:
    """Flagged subscribers (at today's threshold) as the portfolio stood just before the
    latest scoring run: each subscriber's newest prediction older than that run, read from
    prediction history. None when there is no earlier run (the change then reads +0)."""
    subscriber_churn = sa.and_(
        Prediction.prediction_type == PREDICTION_TYPE,
        Prediction.customer_id.in_(sa.select(Customer.id).where(is_subscriber())),
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


def distribution(session: Session) -> list[tuple[float, int]]:
    """(bucket start, subscribers) for every bucket of portfolio.risk.BUCKETS, in order."""
    p = Prediction.probability
    bucket = sa.case(
        *[(p >= start, start) for start in reversed(BUCKETS[1:])], else_=BUCKETS[0]
    ).label("bucket")
    rows = session.execute(_scored(bucket, sa.func.count(Prediction.id)).group_by(bucket)).all()
    counts = {round(float(b), 1): int(n) for b, n in rows}
    return [(start, counts.get(start, 0)) for start in BUCKETS]


def risk_segments(session: Session, *, threshold: float) -> dict[str, int]:
    """Subscribers per risk level (High, Medium, Low, in that order) under `threshold`."""
    p = Prediction.probability
    level = sa.case(
        (p >= threshold, HIGH), (p >= medium_cutoff(threshold), MEDIUM), else_=LOW
    ).label("level")
    rows = session.execute(_scored(level, sa.func.count(Prediction.id)).group_by(level)).all()
    counts = {str(name): int(n) for name, n in rows}
    return {name: counts.get(name, 0) for name in RISK_LEVELS}


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
    """One page of the flagged subscribers (probability >= threshold), most likely to churn
    first, each with its last activity (login or event), and how many are flagged in all."""
    total = flagged_count(session, threshold=threshold)
    rows = session.execute(
        _scored(Customer, Prediction.probability)
        .where(Prediction.probability >= threshold)
        .order_by(Prediction.probability.desc(), Customer.id)
        .offset((page - 1) * limit)
        .limit(limit)
    ).all()
    events = _latest_events(session, [c.id for c, _ in rows])
    return [
        RiskRow(c, float(p or 0.0), _last_activity(c, events.get(c.id))) for c, p in rows
    ], total


def latest_results(session: Session, *, limit: int) -> list[tuple[str, Prediction]]:
    """The newest current predictions with their subscriber's external id: newest run first,
    riskiest first within a run."""
    rows = session.execute(
        _scored(Customer.external_id, Prediction)
        .order_by(Prediction.predicted_at.desc(), Prediction.probability.desc(), Prediction.id)
        .limit(limit)
    ).all()
    return [(str(ext), pred) for ext, pred in rows]
