"""Churn-KPI reads beyond the summary and cohorts, over the current subscriber portfolio (the
live subscribers with an ACTIVE churn prediction, as portfolio.service counts them):

- `risk_distribution`: subscribers per tenth of churn probability ("0-10" ... "90-100",
  percent; the last range includes 100), each with how many are at risk (>= the model's
  threshold).
- `risk_factors`: what drives the at-risk subscribers' predictions. A factor is a feature
  whose stored contribution pushes an at-risk subscriber's prediction towards churn (batch
  scoring explains every at-risk subscriber). `affectedCustomers`: at-risk subscribers it
  pushes; `impact`: high, medium or low by its mean push on them relative to the strongest
  factor's (narratives' impact_of, the rule that ranks one prediction's drivers);
  `primarySegment`: the exclusive cohort holding most of those subscribers ("Other" when most
  are in none of the four). Ordered by total push, strongest first.
- `cohort_members`: one cohort's subscribers (VIP, Regular, New, Dormant or At-Risk) with
  their churn probability and lifetime value, sorted by either, at-risk only if asked.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.errors import InvalidInput, NotFound
from propensity.models import Customer, ModelVersion, Prediction
from propensity.narratives.facts import impact_of
from propensity.narratives.formatting import as_float
from propensity.narratives.scene import humanize
from propensity.portfolio.cohorts import AT_RISK, DEFAULT_RULES, EXCLUSIVE_COHORTS, CohortRules
from propensity.portfolio.risk import threshold_of
from propensity.portfolio.service import cohort_column, live_at
from propensity.portfolio.subscribers import is_current_churn, is_subscriber

DISTRIBUTION_BINS = 10
NO_COHORT = "Other"
COHORT_SORTS = ("probability", "ltv")
MAX_COHORT_LIMIT = 1000
DEFAULT_COHORT_LIMIT = 50


@dataclass(frozen=True, kw_only=True)
class RiskRange:
    label: str
    customer_count: int
    at_risk_count: int


@dataclass(frozen=True, kw_only=True)
class RiskFactor:
    feature: str
    name: str
    impact: str
    affected_customers: int
    primary_segment: str
    mean_contribution: float


@dataclass(frozen=True, kw_only=True)
class Member:
    customer_id: str
    probability: float
    lifetime_value: float
    at_risk: bool


def _current(as_of: datetime) -> list[sa.ColumnElement[bool]]:
    return [is_current_churn(), is_subscriber(), live_at(as_of)]


def risk_distribution(
    session: Session, *, version: ModelVersion, as_of: datetime
) -> list[RiskRange]:
    """Subscribers per tenth of churn probability, every range listed (empty ones as 0)."""
    threshold = threshold_of(version)
    # A ladder of comparisons (casts round on one backend and truncate on another); 1.0 joins
    # the last range.
    tenth = sa.case(
        *(
            (Prediction.probability < (i + 1) / DISTRIBUTION_BINS, i)
            for i in range(DISTRIBUTION_BINS - 1)
        ),
        else_=DISTRIBUTION_BINS - 1,
    ).label("tenth")
    flagged = sa.case((Prediction.probability >= threshold, 1), else_=0)
    rows = session.execute(
        sa.select(tenth, sa.func.count(), sa.func.sum(flagged))
        .select_from(Customer)
        .join(Prediction, Prediction.customer_id == Customer.id)
        .where(*_current(as_of))
        .group_by(tenth)
    ).all()
    counts = {int(t): (int(n), int(r or 0)) for t, n, r in rows}
    step = 100 // DISTRIBUTION_BINS
    return [
        RiskRange(
            label=f"{i * step}-{(i + 1) * step}",
            customer_count=counts.get(i, (0, 0))[0],
            at_risk_count=counts.get(i, (0, 0))[1],
        )
        for i in range(DISTRIBUTION_BINS)
    ]


def risk_factors(
    session: Session,
    *,
    version: ModelVersion,
    as_of: datetime,
    rules: CohortRules = DEFAULT_RULES,
) -> list[RiskFactor]:
    """The features pushing at-risk subscribers towards churn (module docstring)."""
    threshold = threshold_of(version)
    rows = session.execute(
        sa.select(cohort_column(as_of=as_of, rules=rules), Prediction.contributions)
        .select_from(Customer)
        .join(Prediction, Prediction.customer_id == Customer.id)
        .where(*_current(as_of), Prediction.probability >= threshold)
    ).all()
    pushes: dict[str, list[float]] = defaultdict(list)
    segments: dict[str, Counter[str]] = defaultdict(Counter)
    for cohort, contributions in rows:
        features: dict[str, Any] = (contributions or {}).get("features") or {}
        for name, raw in features.items():
            value = as_float(raw)
            if value is None or value <= 0:
                continue
            pushes[name].append(value)
            segments[name][NO_COHORT if cohort is None else str(cohort)] += 1
    means = {name: sum(v) / len(v) for name, v in pushes.items()}
    largest = max(means.values(), default=0.0)
    ordered = sorted(pushes, key=lambda n: (-sum(pushes[n]), n))
    return [
        RiskFactor(
            feature=name,
            name=humanize(name),
            impact=impact_of(means[name], largest),
            affected_customers=len(pushes[name]),
            primary_segment=segments[name].most_common(1)[0][0],
            mean_contribution=means[name],
        )
        for name in ordered
    ]


def parse_cohort(name: str) -> str:
    """The cohort's canonical name (case-insensitive); 404 for an unknown one."""
    known = {c.lower(): c for c in (*EXCLUSIVE_COHORTS, AT_RISK)}
    cohort = known.get(name.strip().lower())
    if cohort is None:
        raise NotFound(
            f"Unknown cohort '{name}'. Use: {', '.join((*EXCLUSIVE_COHORTS, AT_RISK))}",
            code="COHORT_NOT_FOUND",
        )
    return cohort


def cohort_members(
    session: Session,
    *,
    version: ModelVersion,
    as_of: datetime,
    cohort: str,
    limit: int = DEFAULT_COHORT_LIMIT,
    sort: str = "probability",
    at_risk_only: bool = False,
    rules: CohortRules = DEFAULT_RULES,
) -> tuple[int, list[Member]]:
    """(how many subscribers the cohort holds under the filter, the first `limit` of them by
    `sort` descending). `cohort` as parse_cohort returns it."""
    if sort not in COHORT_SORTS:
        raise InvalidInput(
            f"Invalid sort parameter. Use: {', '.join(COHORT_SORTS)}", code="INVALID_SORT"
        )
    if not 1 <= limit <= MAX_COHORT_LIMIT:
        raise InvalidInput(
            f"Invalid limit parameter. Use 1 to {MAX_COHORT_LIMIT}", code="INVALID_LIMIT"
        )
    threshold = threshold_of(version)
    conditions = list(_current(as_of))
    if cohort == AT_RISK or at_risk_only:
        conditions.append(Prediction.probability >= threshold)
    if cohort != AT_RISK:
        conditions.append(cohort_column(as_of=as_of, rules=rules) == cohort)
    ltv = sa.func.coalesce(Customer.lifetime_value, 0.0)
    order = Prediction.probability if sort == "probability" else ltv
    base = (
        sa.select(Customer.external_id, Prediction.probability, ltv)
        .select_from(Customer)
        .join(Prediction, Prediction.customer_id == Customer.id)
        .where(*conditions)
    )
    total = session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
    rows = session.execute(base.order_by(order.desc(), Customer.id).limit(limit)).all()
    return int(total), [
        Member(
            customer_id=str(external_id),
            probability=float(probability or 0.0),
            lifetime_value=float(value or 0.0),
            at_risk=float(probability or 0.0) >= threshold,
        )
        for external_id, probability, value in rows
    ]
