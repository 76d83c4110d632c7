"""The churn portfolio of subscribers: current figures, daily snapshots and back-filled history.

Population: live subscribers (not churned at the moment considered) with an ACTIVE CHURN
prediction. At-risk: probability >= the active subscriber CHURN model's threshold.

Snapshots are one row per tenant, prediction type, population and UTC date; recording a
date again replaces that date's figures (idempotent upsert). `backfill_history` scores past
dates with point-in-time features (the feature builder only uses data stamped before each
date) and stores only the aggregate: those scores never become current predictions. It
uses the same active model and feature frame as `score_entities` but skips the per-row
explanations and narratives, which an aggregate never reads (about 3x faster).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import Database, UTCDateTime, utcnow
from propensity.features import build_scoring_frame
from propensity.modeling import BinaryModel
from propensity.models import (
    Customer,
    Event,
    ModelVersion,
    PortfolioSnapshot,
    Prediction,
)
from propensity.portfolio.aggregate import (
    Group,
    PortfolioFigures,
    ScoredCustomer,
    aggregate,
    aggregate_groups,
)
from propensity.portfolio.cohorts import (
    DEFAULT_RULES,
    DORMANT,
    NEW,
    REGULAR,
    VIP,
    CohortRules,
    Profile,
)
from propensity.portfolio.risk import threshold_of
from propensity.portfolio.subscribers import (
    POPULATION,
    PREDICTION_TYPE,
    is_current_churn,
    is_subscriber,
)
from propensity.predictions.scoring import resolve_model
from propensity.registry.service import active_version

PURCHASE_EVENT = "purchase"
DAYS_PER_YEAR = 365.25


def live_at(as_of: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(Customer.churned_at.is_(None), Customer.churned_at > as_of)


def latest_prediction_time(session: Session) -> datetime | None:
    """When the current ACTIVE subscriber churn predictions were made (the newest)."""
    return session.scalar(
        sa.select(sa.func.max(Prediction.predicted_at))
        .join(Customer, Customer.id == Prediction.customer_id)
        .where(is_current_churn(), is_subscriber())
    )


def cohort_column(*, as_of: datetime, rules: CohortRules) -> sa.ColumnElement[str | None]:
    """cohorts.cohort_of in SQL, over the Customer columns its Profile holds: the one
    exclusive cohort at `as_of`, or NULL. Missing numbers count as 0 / False and a missing or
    later last purchase as not recent, as there; "days since the last purchase <= N" is "the
    last purchase at or after as_of - N days"."""
    logins = sa.func.coalesce(Customer.login_frequency, 0.0)
    recent = sa.and_(
        Customer.last_purchase_at.is_not(None),
        Customer.last_purchase_at <= as_of,
        Customer.last_purchase_at >= as_of - timedelta(days=rules.recent_purchase_days),
    )
    return sa.case(
        (
            sa.or_(
                sa.func.coalesce(Customer.lifetime_value, 0.0) > rules.vip_lifetime_value,
                sa.func.coalesce(Customer.affinity_card, sa.false()),
            ),
            VIP,
        ),
        (
            sa.and_(
                Customer.membership_years.is_not(None),
                Customer.membership_years < rules.new_membership_years,
            ),
            NEW,
        ),
        (
            sa.and_(
                sa.func.coalesce(Customer.total_purchases, 0) >= rules.regular_min_purchases,
                recent,
                logins > 0,
            ),
            REGULAR,
        ),
        (sa.or_(sa.not_(recent), logins == 0), DORMANT),
        else_=sa.null(),
    )


def _live_figures(
    session: Session, *, version: ModelVersion, as_of: datetime, rules: CohortRules
) -> PortfolioFigures:
    """`aggregate` of the live subscribers at `as_of` with their ACTIVE churn prediction,
    counted and summed by the database per cohort and side of the threshold: loading 14,000
    profiles to classify them in Python was most of the time of the churn-KPI summary, the
    cohorts and the subscribers page."""
    threshold = threshold_of(version)
    cohort = cohort_column(as_of=as_of, rules=rules).label("cohort")
    at_risk = sa.case((Prediction.probability >= threshold, 1), else_=0).label("at_risk")
    rows = session.execute(
        sa.select(
            cohort,
            at_risk,
            sa.func.count(),
            sa.func.sum(Prediction.probability),
            sa.func.sum(sa.func.coalesce(Customer.lifetime_value, 0.0)),
        )
        .select_from(Customer)
        .join(Prediction, Prediction.customer_id == Customer.id)
        .where(is_current_churn(), is_subscriber(), live_at(as_of))
        .group_by(cohort, at_risk)
    ).all()
    return aggregate_groups(
        (
            Group(
                cohort=None if name is None else str(name),
                at_risk=bool(flagged),
                count=int(count),
                risk_sum=float(risk or 0.0),
                ltv_sum=float(ltv or 0.0),
            )
            for name, flagged, count, risk, ltv in rows
        ),
        threshold=threshold,
    )


@dataclass(frozen=True, kw_only=True)
class CurrentPortfolio:
    version: ModelVersion
    as_of: datetime
    figures: PortfolioFigures


def current_portfolio(
    session: Session, *, version: ModelVersion, rules: CohortRules = DEFAULT_RULES
) -> CurrentPortfolio | None:
    """Figures of the current ACTIVE predictions, with recency measured at their time."""
    as_of = latest_prediction_time(session)
    if as_of is None:
        return None
    figures = _live_figures(session, version=version, as_of=as_of, rules=rules)
    return CurrentPortfolio(version=version, as_of=as_of, figures=figures)


def _upsert(
    session: Session,
    *,
    version: ModelVersion,
    as_of: datetime,
    figures: PortfolioFigures,
    source: str,
) -> PortfolioSnapshot:
    day = as_of.date()
    snapshot = session.scalar(
        sa.select(PortfolioSnapshot).where(
            PortfolioSnapshot.prediction_type == PREDICTION_TYPE,
            PortfolioSnapshot.population == POPULATION,
            PortfolioSnapshot.snapshot_date == day,
        )
    )
    if snapshot is None:
        snapshot = PortfolioSnapshot(
            prediction_type=PREDICTION_TYPE, population=POPULATION, snapshot_date=day
        )
        session.add(snapshot)
    total = figures.total
    snapshot.as_of = as_of
    snapshot.model_version_id = version.id
    snapshot.threshold = figures.threshold
    snapshot.total_customers = total.customer_count
    snapshot.at_risk_count = total.at_risk_count
    snapshot.average_risk_score = round(total.average_risk_score, 4)
    snapshot.ltv_at_risk = round(total.ltv_at_risk, 2)
    snapshot.cohorts = figures.cohort_counts()
    snapshot.source = source
    session.flush()
    return snapshot


def record_portfolio_snapshot(
    session: Session, *, as_of: datetime, rules: CohortRules = DEFAULT_RULES
) -> PortfolioSnapshot | None:
    """Records (or replaces) the snapshot of `as_of`'s date from the ACTIVE predictions.

    None when the tenant has no active subscriber churn model.
    """
    version = active_version(session, prediction_type=PREDICTION_TYPE, population=POPULATION)
    if version is None:
        return None
    figures = _live_figures(session, version=version, as_of=as_of, rules=rules)
    return _upsert(session, version=version, as_of=as_of, figures=figures, source="live")


def _purchases_around(
    session: Session, *, as_of: datetime
) -> tuple[dict[int, datetime], dict[int, int]]:
    """Per subscriber: the last purchase event at or before `as_of`, and purchases after it
    (one pass over the purchase events)."""
    before = sa.case((Event.occurred_at <= as_of, Event.occurred_at))
    after = sa.case((Event.occurred_at > as_of, 1), else_=0)
    rows = session.execute(
        sa.select(
            Event.customer_id,
            sa.type_coerce(sa.func.max(before), UTCDateTime()),
            sa.func.sum(after),
        )
        .join(Customer, Customer.id == Event.customer_id)
        .where(Event.type == PURCHASE_EVENT, is_subscriber())
        .group_by(Event.customer_id)
    ).all()
    last = {int(cid): stamp for cid, stamp, _ in rows if cid is not None and stamp is not None}
    later = {int(cid): int(n or 0) for cid, _, n in rows if cid is not None}
    return last, later


@dataclass(frozen=True, kw_only=True)
class PastScores:
    version: ModelVersion
    as_of: datetime
    probabilities: dict[int, float]


def score_past(session: Session, *, as_of: datetime) -> PastScores:
    """Churn probabilities of the live subscribers at `as_of`, from point-in-time features."""
    version, model = resolve_model(session, prediction_type=PREDICTION_TYPE, kind=POPULATION)
    frame = build_scoring_frame(
        session,
        prediction_type=version.prediction_type,
        kind=version.population,
        as_of=as_of,
        mode=str(version.training_summary.get("mode") or "") or None,
        features=[spec.name for spec in model.features],
    )
    if len(frame.frame) == 0 or not isinstance(model, BinaryModel):
        return PastScores(version=version, as_of=as_of, probabilities={})
    probability = model.predict_proba(frame.frame)
    return PastScores(
        version=version,
        as_of=as_of,
        probabilities={
            int(entity): float(p) for entity, p in zip(frame.entity_ids, probability, strict=True)
        },
    )


def point_in_time_population(
    session: Session, *, scores: PastScores, end: datetime
) -> list[ScoredCustomer]:
    """The scored subscribers who were live at its date, with profiles as of that date.

    Point in time: the last purchase is the latest purchase event up to the date (the stored
    last purchase when it precedes the date), purchases after the date are taken off the
    total, and membership years are wound back from `end`. Lifetime value, affinity card
    and login frequency are stored as single current values, so they are used as they are.
    """
    as_of = scores.as_of
    probabilities = scores.probabilities
    last_purchase, later_purchases = _purchases_around(session, as_of=as_of)
    customers = session.scalars(
        sa.select(Customer).where(
            is_subscriber(),
            live_at(as_of),
            sa.or_(Customer.created_at.is_(None), Customer.created_at <= as_of),
        )
    ).all()
    wound_back = max(0.0, (end - as_of).total_seconds() / 86400.0 / DAYS_PER_YEAR)
    population = []
    for c in customers:
        probability = probabilities.get(c.id)
        if probability is None:
            continue
        stored_last = (
            c.last_purchase_at if c.last_purchase_at and c.last_purchase_at <= as_of else None
        )
        event_last = last_purchase.get(c.id)
        last = max((s for s in (stored_last, event_last) if s is not None), default=None)
        purchases = None
        if c.total_purchases is not None:
            purchases = max(0, c.total_purchases - later_purchases.get(c.id, 0))
        membership = None if c.membership_years is None else c.membership_years - wound_back
        profile = Profile(
            lifetime_value=c.lifetime_value,
            affinity_card=c.affinity_card,
            total_purchases=purchases,
            last_purchase_at=last,
            login_frequency=c.login_frequency,
            membership_years=membership,
        )
        population.append(
            ScoredCustomer(customer_id=c.id, probability=probability, profile=profile)
        )
    return population


def backfill_dates(*, end: datetime, days: int, every_days: int) -> list[datetime]:
    """Past snapshot moments, oldest first, every `every_days` back to `days` before `end`
    (`end` itself excluded: that is the live snapshot)."""
    if every_days < 1 or days < every_days:
        return []
    return [end - timedelta(days=k * every_days) for k in range(days // every_days, 0, -1)]


def backfill_history(
    database: Database,
    *,
    tenant_id: int,
    days: int,
    every_days: int,
    end: datetime | None = None,
    rules: CohortRules = DEFAULT_RULES,
) -> list[PortfolioSnapshot]:
    """Scores past dates point-in-time and records one snapshot per date (not predictions).

    `end` defaults to the time of the current predictions (else now). Returns the
    snapshots written, oldest first; none when there is no active subscriber churn model.
    """
    with database.tenant_session(tenant_id) as session:
        if active_version(session, prediction_type=PREDICTION_TYPE, population=POPULATION) is None:
            return []
        end = end or latest_prediction_time(session) or utcnow()
    written: list[PortfolioSnapshot] = []
    for moment in backfill_dates(end=end, days=days, every_days=every_days):
        with database.tenant_session(tenant_id) as session:
            scores = score_past(session, as_of=moment)
            figures = aggregate(
                point_in_time_population(session, scores=scores, end=end),
                threshold=threshold_of(scores.version),
                as_of=moment,
                rules=rules,
            )
            written.append(
                _upsert(
                    session,
                    version=scores.version,
                    as_of=moment,
                    figures=figures,
                    source="backfill",
                )
            )
    return written


def snapshots_between(session: Session, *, start: date, end: date) -> Sequence[PortfolioSnapshot]:
    """The subscriber churn snapshots dated in [start, end], oldest first."""
    return session.scalars(
        sa.select(PortfolioSnapshot)
        .where(
            PortfolioSnapshot.prediction_type == PREDICTION_TYPE,
            PortfolioSnapshot.population == POPULATION,
            PortfolioSnapshot.snapshot_date >= start,
            PortfolioSnapshot.snapshot_date <= end,
        )
        .order_by(PortfolioSnapshot.snapshot_date)
    ).all()


def latest_snapshot(session: Session) -> PortfolioSnapshot | None:
    return session.scalar(
        sa.select(PortfolioSnapshot)
        .where(
            PortfolioSnapshot.prediction_type == PREDICTION_TYPE,
            PortfolioSnapshot.population == POPULATION,
        )
        .order_by(PortfolioSnapshot.snapshot_date.desc())
        .limit(1)
    )


def record_history(database: Database, *, tenant_id: int, days: int, every_days: int) -> int:
    """Back-fills `days` of history every `every_days`, then records the live snapshot of
    the current predictions. Returns the number of snapshots written (the demo's history)."""
    written = len(backfill_history(database, tenant_id=tenant_id, days=days, every_days=every_days))
    with database.tenant_session(tenant_id) as session:
        as_of = latest_prediction_time(session)
        if as_of is not None and record_portfolio_snapshot(session, as_of=as_of) is not None:
            written += 1
    return written
