"""The active subscriber churn model as RetainStream shows it: version, metrics, comparison
with the previous version, and feature importance under human names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from propensity.db import Session
from propensity.errors import Unavailable
from propensity.models import ModelVersion
from propensity.registry.service import active_version
from propensity.vocabulary import Population, PredictionType

PREDICTION_TYPE = PredictionType.CHURN
POPULATION = Population.SUBSCRIBER
# modelAuc.status: "Degraded" when the held-out ROC-AUC fell by more than this against the
# previous trained version; otherwise (or with no previous version) "Stable".
AUC_DROP_TOLERANCE = 0.02
ALGORITHMS = {
    "xgboost": "XGBoost",
    "logistic": "Logistic regression",
    "linear": "Logistic regression",
    "blend": "Blend of XGBoost and logistic regression",
    "catboost": "CatBoost",
}
# Short names for the subscriber features the documents show ("Watch Time", "Pay Fail"...).
_BASE_TITLES = {
    "watch_hours": "Watch Time",
    "days_since_watch": "Days Since Watching",
    "watch_trend": "Watch Time Trend",
    "tenure_days": "Subscription Age",
    "tenure_months": "Subscription Age",
    "days_since_login": "Last Login Days",
    "login": "Logins",
    "login_trend": "Login Trend",
    "payment_failed": "Payment Failures",
    "days_since_payment_failed": "Days Since Payment Failure",
    "device_count": "Device Count",
    "plan": "Plan",
    "purchase": "Purchases",
    "purchase_amount": "Purchase Amount",
    "days_since_purchase": "Days Since Purchase",
    "activity": "Activity",
    "activity_per_day": "Daily Activity",
    "days_since_activity": "Days Since Activity",
    "affinity_card": "Affinity Card",
    "email_domain_type": "Email Domain",
}
_WINDOW = re.compile(r"_(\d+)d$")


@dataclass(frozen=True)
class Comparison:
    improved: bool
    previous_auc: float | None
    current_auc: float | None
    improvement: str | None


def require_model(session: Session) -> ModelVersion:
    version = active_version(
        session, prediction_type=PREDICTION_TYPE.value, population=POPULATION.value
    )
    if version is None:
        raise Unavailable(
            "No trained churn model for subscribers yet: train one with POST /api/model/train",
            code="MODEL_UNAVAILABLE",
        )
    return version


def metric(version: ModelVersion, name: str) -> float | None:
    value = version.metrics.get(name)
    return round(float(value), 4) if isinstance(value, int | float) else None


def training_samples(version: ModelVersion) -> int:
    rows = version.training_summary.get("rows", version.metrics.get("rows", 0))
    return int(rows or 0)


def algorithm_label(version: ModelVersion) -> str:
    raw = (version.algorithm or "").lower()
    return ALGORITHMS.get(raw, version.algorithm or "Unknown")


def compare(current: ModelVersion, previous: ModelVersion | None) -> Comparison:
    now = metric(current, "roc_auc")
    before = metric(previous, "roc_auc") if previous is not None else None
    if now is None or before is None:
        return Comparison(False, before, now, None)
    diff = now - before
    relative = f" ({diff / before * 100:+.1f}%)" if before else ""
    return Comparison(diff > 0, before, now, f"{diff:+.2f}{relative}")


def auc_status(comparison: Comparison) -> str:
    if comparison.previous_auc is None or comparison.current_auc is None:
        return "Stable"
    dropped = comparison.previous_auc - comparison.current_auc
    return "Degraded" if dropped > AUC_DROP_TOLERANCE else "Stable"


def feature_title(name: str) -> str:
    """'watch_hours_30d' -> 'Watch Time (30d)'; unknown names are title-cased."""
    match = _WINDOW.search(name)
    base = name[: match.start()] if match else name
    title = _BASE_TITLES.get(base) or " ".join(p.capitalize() for p in base.split("_") if p)
    return f"{title} ({match.group(1)}d)" if match else title


def importance(version: ModelVersion, top: int | None) -> list[tuple[str, float]]:
    """The model's global importance shares, largest first, under human names."""
    shares: dict[str, Any] = version.feature_importance or {}
    ranked = sorted(
        ((str(k), float(v)) for k, v in shares.items() if isinstance(v, int | float)),
        key=lambda item: (-item[1], item[0]),
    )
    chosen = ranked if top is None else ranked[:top]
    return [(feature_title(name), round(value, 4)) for name, value in chosen]
