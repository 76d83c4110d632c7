"""Pure aggregation of scored customers into portfolio figures (no database)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from propensity.portfolio.cohorts import (
    AT_RISK,
    DEFAULT_RULES,
    EXCLUSIVE_COHORTS,
    CohortRules,
    Profile,
    cohort_of,
)
from propensity.portfolio.risk import is_at_risk


@dataclass(frozen=True, kw_only=True)
class ScoredCustomer:
    customer_id: int
    probability: float
    profile: Profile


@dataclass(kw_only=True)
class CohortStats:
    cohort: str
    customer_count: int = 0
    at_risk_count: int = 0
    risk_sum: float = 0.0
    ltv_at_risk: float = 0.0
    # Sum of the at-risk customers' probabilities.
    at_risk_risk_sum: float = 0.0

    def add(self, probability: float, ltv: float, *, at_risk: bool) -> None:
        self.customer_count += 1
        self.risk_sum += probability
        if at_risk:
            self.at_risk_count += 1
            self.ltv_at_risk += ltv
            self.at_risk_risk_sum += probability

    def add_group(self, count: int, risk_sum: float, ltv_sum: float, *, at_risk: bool) -> None:
        """`add` for `count` customers at once, with the sums of their probabilities and
        lifetime values (an aggregate the database computed)."""
        self.customer_count += count
        self.risk_sum += risk_sum
        if at_risk:
            self.at_risk_count += count
            self.ltv_at_risk += ltv_sum
            self.at_risk_risk_sum += risk_sum

    @property
    def at_risk_percentage(self) -> float:
        return _percent(self.at_risk_count, self.customer_count)

    @property
    def average_risk_score(self) -> float:
        return 100.0 * self.risk_sum / self.customer_count if self.customer_count else 0.0

    @property
    def average_risk_score_at_risk(self) -> float:
        """Mean risk score (0-100) of the cohort's at-risk customers; 0 without any."""
        return 100.0 * self.at_risk_risk_sum / self.at_risk_count if self.at_risk_count else 0.0


@dataclass(kw_only=True)
class PortfolioFigures:
    threshold: float
    total: CohortStats
    cohorts: dict[str, CohortStats] = field(default_factory=dict)

    def cohort_counts(self) -> dict[str, int]:
        return {name: self.cohorts[name].customer_count for name in EXCLUSIVE_COHORTS}


def _percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def aggregate(
    customers: Iterable[ScoredCustomer],
    *,
    threshold: float,
    as_of: datetime,
    rules: CohortRules = DEFAULT_RULES,
) -> PortfolioFigures:
    total = CohortStats(cohort="All")
    cohorts = {name: CohortStats(cohort=name) for name in (*EXCLUSIVE_COHORTS, AT_RISK)}
    for customer in customers:
        at_risk = is_at_risk(customer.probability, threshold)
        ltv = customer.profile.lifetime_value or 0.0
        total.add(customer.probability, ltv, at_risk=at_risk)
        cohort = cohort_of(customer.profile, as_of=as_of, rules=rules)
        if cohort is not None:
            cohorts[cohort].add(customer.probability, ltv, at_risk=at_risk)
        if at_risk:
            cohorts[AT_RISK].add(customer.probability, ltv, at_risk=True)
    return PortfolioFigures(threshold=threshold, total=total, cohorts=cohorts)


@dataclass(frozen=True, kw_only=True)
class Group:
    """Customers of one exclusive cohort (None: none) on one side of the threshold, counted
    and summed by the database: what `aggregate` adds one by one."""

    cohort: str | None
    at_risk: bool
    count: int
    risk_sum: float
    ltv_sum: float


def aggregate_groups(groups: Iterable[Group], *, threshold: float) -> PortfolioFigures:
    """The figures `aggregate` gives for the customers these groups sum up."""
    total = CohortStats(cohort="All")
    cohorts = {name: CohortStats(cohort=name) for name in (*EXCLUSIVE_COHORTS, AT_RISK)}
    for group in groups:
        sums = (group.count, group.risk_sum, group.ltv_sum)
        total.add_group(*sums, at_risk=group.at_risk)
        if group.cohort is not None:
            cohorts[group.cohort].add_group(*sums, at_risk=group.at_risk)
        if group.at_risk:
            cohorts[AT_RISK].add_group(*sums, at_risk=True)
    return PortfolioFigures(threshold=threshold, total=total, cohorts=cohorts)
