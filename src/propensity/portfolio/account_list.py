"""The account portfolio as a work list: every B2B account with its current churn answer,
riskiest first, filtered, searched and paged (the dashboard's /accounts).

An account's current churn prediction is serving's (serving.service.current_many), so the
probability listed is the one every surface answers for the account. Risk categories use the
serving model's cut-offs (narratives.risk.RiskCutoffs), as the churn-risk endpoint does."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.errors import InvalidInput
from propensity.models import Cta, Customer, ModelVersion, Prediction
from propensity.narratives.risk import RiskCutoffs
from propensity.serving.routing import serving_models_or_none
from propensity.serving.service import Served, current_many
from propensity.settings import Settings
from propensity.vocabulary import Population, PredictionType

ACCOUNT = Population.ACCOUNT.value
CHURN = PredictionType.CHURN
RISK_CATEGORIES = ("critical", "high", "medium", "low")
UNSCORED = "unscored"
# Imported account columns that name the account's owner, in order of preference (the
# simulator's is csm_owner); they land in the account's attributes.
OWNER_KEYS = ("owner", "csm_owner", "account_owner", "csm")
MAX_PER_PAGE = 200
TOP_DRIVERS = 3
OPEN_CTA_STATUSES = ("OPEN", "IN_PROGRESS")


@dataclass(frozen=True, kw_only=True)
class AccountFilters:
    risk: str | None = None  # one of RISK_CATEGORIES, or "unscored"
    renewal_within_days: int | None = None
    owner: str | None = None
    account_type: str | None = None
    search: str | None = None


@dataclass(frozen=True, kw_only=True)
class AccountSummary:
    """What the list shows of an account: read as columns, not entities (two thousand ORM
    objects with their attributes decoded cost more than the rest of the page)."""

    id: int
    external_id: str
    name: str | None
    account_type: str | None
    renewal_date: date | None
    arr: float | None
    churned_at: datetime | None
    churned: bool | None
    owner: str | None


@dataclass(frozen=True)
class Driver:
    feature: str
    contribution: float  # signed, in the model's raw (log-odds) space: + raises the risk


@dataclass(frozen=True, kw_only=True)
class AccountRow:
    account: AccountSummary
    prediction: Prediction | None
    model: ModelVersion | None
    risk_category: str | None
    previous_probability: float | None
    open_ctas: int
    drivers: list[Driver] = field(default_factory=list)

    @property
    def owner(self) -> str | None:
        return self.account.owner

    @property
    def probability(self) -> float | None:
        return None if self.prediction is None else self.prediction.probability

    @property
    def change(self) -> float | None:
        """The change of the churn probability since the account's previous prediction."""
        if self.probability is None or self.previous_probability is None:
            return None
        return self.probability - self.previous_probability

    @property
    def arr_at_risk(self) -> float | None:
        if self.probability is None or self.account.arr is None:
            return None
        return float(self.account.arr) * self.probability


@dataclass(frozen=True, kw_only=True)
class AccountPortfolioPage:
    rows: list[AccountRow]
    total: int  # accounts matching the filters
    page: int
    pages: int
    per_page: int
    # Over the accounts matching every filter but the risk category: what the filter offers.
    risk_counts: dict[str, int]
    arr_at_risk: float  # summed over the accounts matching the filters
    owners: list[str]
    account_types: list[str]
    has_model: bool
    accounts_in_all: int  # in the portfolio (not churned)
    churned: int  # accounts left out because they have churned


def has_churned(account: Customer | AccountSummary, now: datetime) -> bool:
    if account.churned_at is not None:
        churned_at = account.churned_at
        if churned_at.tzinfo is None:
            churned_at = churned_at.replace(tzinfo=now.tzinfo)
        return churned_at <= now
    return bool(account.churned)


def owner_of(account: Customer) -> str | None:
    attributes = account.attributes or {}
    for key in OWNER_KEYS:
        value = attributes.get(key)
        if value not in (None, ""):
            return str(value)
    return None


def _summaries(session: Session) -> list[AccountSummary]:
    owner = sa.func.coalesce(*(Customer.attributes[key].as_string() for key in OWNER_KEYS))
    rows = session.execute(
        sa.select(
            Customer.id,
            Customer.external_id,
            Customer.name,
            Customer.account_type,
            Customer.renewal_date,
            Customer.arr,
            Customer.churned_at,
            Customer.churned,
            owner,
        )
        .where(Customer.kind == ACCOUNT)
        .order_by(Customer.id)
    ).all()
    return [
        AccountSummary(
            id=row[0],
            external_id=row[1],
            name=row[2],
            account_type=row[3],
            renewal_date=row[4],
            arr=row[5],
            churned_at=row[6],
            churned=row[7],
            owner=None if row[8] in (None, "") else str(row[8]),
        )
        for row in rows
    ]


def _check(filters: AccountFilters, page: int, per_page: int) -> None:
    if filters.risk is not None and filters.risk not in (*RISK_CATEGORIES, UNSCORED):
        allowed = ", ".join((*RISK_CATEGORIES, UNSCORED))
        raise InvalidInput(f"Unknown risk category '{filters.risk}'; use one of {allowed}")
    if filters.renewal_within_days is not None and filters.renewal_within_days < 0:
        raise InvalidInput("The renewal window must be zero or more days")
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"page must be 1 or more and per_page between 1 and {MAX_PER_PAGE}")


def _matches(account: AccountSummary, filters: AccountFilters, now: datetime) -> bool:
    if (
        filters.account_type
        and (account.account_type or "").upper() != filters.account_type.upper()
    ):
        return False
    if filters.renewal_within_days is not None:
        today = now.date()
        renewal = account.renewal_date
        if renewal is None or not today <= renewal <= today + timedelta(
            days=filters.renewal_within_days
        ):
            return False
    if filters.search and filters.search.strip():
        needle = filters.search.strip().lower()
        if needle not in (account.name or "").lower() and needle not in account.external_id.lower():
            return False
    return True


def _previous_probabilities(
    session: Session, current: Sequence[Prediction]
) -> dict[int, float | None]:
    """For each current prediction's account, the probability of the churn prediction made
    before it (superseded or expired), if any."""
    by_account = {p.customer_id: p for p in current if p.customer_id is not None}
    if not by_account:
        return {}
    rows = session.execute(
        sa.select(
            Prediction.customer_id, Prediction.id, Prediction.probability, Prediction.predicted_at
        )
        .where(
            Prediction.customer_id.in_(list(by_account)),
            Prediction.prediction_type == CHURN.value,
        )
        .order_by(Prediction.predicted_at.desc(), Prediction.id.desc())
    ).all()
    out: dict[int, float | None] = {}
    for customer_id, prediction_id, probability, predicted_at in rows:
        if customer_id is None:
            continue
        now_answer = by_account[customer_id]
        if customer_id in out or prediction_id == now_answer.id:
            continue
        if predicted_at <= now_answer.predicted_at:
            out[customer_id] = probability
    return out


def open_cta_counts(session: Session, *, account_ids: Sequence[int]) -> dict[int, int]:
    if not account_ids:
        return {}
    rows = session.execute(
        sa.select(Cta.customer_id, sa.func.count())
        .where(Cta.customer_id.in_(list(account_ids)), Cta.status.in_(OPEN_CTA_STATUSES))
        .group_by(Cta.customer_id)
    ).all()
    return {int(account_id): int(count) for account_id, count in rows}


def top_drivers(prediction: Prediction, n: int = TOP_DRIVERS) -> list[Driver]:
    """The features that moved this prediction most, with their signed contributions."""
    features: dict[str, Any] = (prediction.contributions or {}).get("features") or {}
    ranked = sorted(features.items(), key=lambda item: -abs(float(item[1])))
    return [Driver(name, float(value)) for name, value in ranked[:n]]


def account_portfolio(
    session: Session,
    *,
    filters: AccountFilters,
    page: int,
    per_page: int,
    settings: Settings,
    now: datetime,
) -> AccountPortfolioPage:
    """The accounts matching `filters`, riskiest current churn answer first (unscored ones
    last, by name), the `page`-th page of `per_page`."""
    _check(filters, page, per_page)
    # Every account is read once: the filter's choices (owners, types) come from all of them,
    # and ranking by risk needs each one's answer anyway.
    # Accounts that have already churned are no longer in the portfolio: only counted.
    every_account = _summaries(session)
    everyone = [a for a in every_account if not has_churned(a, now)]
    wanted_owner = (filters.owner or "").strip().lower()
    accounts = [
        a
        for a in everyone
        if _matches(a, filters, now)
        and (not wanted_owner or (a.owner or "").lower() == wanted_owner)
    ]
    served: dict[int, Served] = current_many(
        session,
        prediction_type=CHURN,
        population=ACCOUNT,
        entity_ids=[a.id for a in accounts],
        now=now,
        light=True,
    )
    models = serving_models_or_none(session, prediction_type=CHURN, population=ACCOUNT)
    cutoffs = {
        version_id: RiskCutoffs.of(threshold=version.threshold, settings=settings)
        for version_id, version in (models.versions.items() if models else ())
    }

    def category(account_id: int) -> str:
        answer = served.get(account_id)
        if answer is None or answer.prediction.probability is None or answer.model is None:
            return UNSCORED
        return cutoffs[answer.model.id].category(float(answer.prediction.probability))

    categories = {a.id: category(a.id) for a in accounts}
    risk_counts = {name: 0 for name in (*RISK_CATEGORIES, UNSCORED)}
    for name in categories.values():
        risk_counts[name] += 1
    if filters.risk:
        accounts = [a for a in accounts if categories[a.id] == filters.risk]

    def order(account: AccountSummary) -> tuple[int, float, str, int]:
        answer = served.get(account.id)
        probability = None if answer is None else answer.prediction.probability
        if probability is None:
            return (1, 0.0, (account.name or "").lower(), account.id)
        return (0, -float(probability), "", account.id)

    accounts.sort(key=order)
    total = len(accounts)
    arr_at_risk = sum(
        float(a.arr) * float(served[a.id].prediction.probability or 0.0)
        for a in accounts
        if a.arr is not None and a.id in served
    )
    pages = max(1, math.ceil(total / per_page))
    shown = accounts[(page - 1) * per_page : page * per_page]
    current = [served[a.id].prediction for a in shown if a.id in served]
    previous = _previous_probabilities(session, current)
    ctas = open_cta_counts(session, account_ids=[a.id for a in shown])
    rows = [
        AccountRow(
            account=a,
            prediction=served[a.id].prediction if a.id in served else None,
            model=served[a.id].model if a.id in served else None,
            risk_category=None if categories[a.id] == UNSCORED else categories[a.id],
            previous_probability=previous.get(a.id),
            open_ctas=ctas.get(a.id, 0),
            drivers=top_drivers(served[a.id].prediction) if a.id in served else [],
        )
        for a in shown
    ]
    return AccountPortfolioPage(
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        per_page=per_page,
        risk_counts=risk_counts,
        arr_at_risk=arr_at_risk,
        owners=sorted({a.owner for a in everyone if a.owner}),
        account_types=sorted({a.account_type for a in everyone if a.account_type}),
        has_model=models is not None,
        accounts_in_all=len(everyone),
        churned=len(every_account) - len(everyone),
    )
