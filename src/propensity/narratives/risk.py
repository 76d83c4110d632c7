"""Churn risk categories and intervention urgency, from documented, configurable cut-offs.

riskCategory, on the calibrated churn probability p:
    critical  p >= critical cut-off   (default max(0.8, t))
    high      p >= high cut-off       (default t)
    medium    p >= medium cut-off     (default t / 2)
    low       otherwise
where t is the active model's decision threshold (the F1-optimal cut on held-out data). Each
cut-off can be fixed instead with PROPENSITY_CHURN_RISK_{MEDIUM,HIGH,CRITICAL}.

interventionUrgency: critical -> immediate, high -> this_week, medium -> this_month,
low -> monitor; one step sooner when the renewal is due within 30 days and the risk is not low
(the narratives' rule, so text and fields agree).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from propensity.narratives.narrate import intervention_urgency
from propensity.settings import Settings

CRITICAL_FLOOR = 0.8
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class RiskCutoffs:
    medium: float
    high: float
    critical: float

    @classmethod
    def of(cls, *, threshold: float | None, settings: Settings) -> RiskCutoffs:
        t = threshold if threshold is not None else DEFAULT_THRESHOLD
        high = settings.churn_risk_high if settings.churn_risk_high is not None else t
        medium = settings.churn_risk_medium if settings.churn_risk_medium is not None else t / 2
        critical = (
            settings.churn_risk_critical
            if settings.churn_risk_critical is not None
            else max(CRITICAL_FLOOR, high)
        )
        return cls(medium=min(medium, high), high=high, critical=max(critical, high))

    def category(self, probability: float) -> str:
        if probability >= self.critical:
            return "critical"
        if probability >= self.high:
            return "high"
        return "medium" if probability >= self.medium else "low"


def days_until(day: date | None, now: datetime) -> float | None:
    if day is None:
        return None
    return float((day - now.date()).days)


def urgency(category: str, *, renewal_date: date | None, now: datetime) -> str:
    days = days_until(renewal_date, now)
    # A renewal already past is not "due soon"; it says nothing about urgency.
    due = days if days is not None and days >= 0 else None
    return intervention_urgency(category, due) or "monitor"
