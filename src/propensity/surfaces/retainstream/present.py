"""Small formatting rules shared by RetainStream's routers."""

from __future__ import annotations

from datetime import UTC, datetime

from propensity.db import utcnow
from propensity.models import Customer


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def days_since(value: datetime | None, now: datetime | None = None) -> int | None:
    if value is None:
        return None
    elapsed = _aware(now or utcnow()) - _aware(value)
    return max(0, elapsed.days)


def ago(value: datetime | None, now: datetime | None = None) -> str | None:
    """'just now', '5 hours ago', '2 days ago', '3 months ago', '1 year ago'."""
    if value is None:
        return None
    seconds = max(0.0, (_aware(now or utcnow()) - _aware(value)).total_seconds())
    for size, unit in (
        (365 * 86400, "year"),
        (30 * 86400, "month"),
        (86400, "day"),
        (3600, "hour"),
        (60, "minute"),
    ):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def signed(value: float, *, digits: int = 1, suffix: str = "") -> str:
    """'+0.4%', '-1.2%', '+0' (zero carries a plus sign, as the document's examples do)."""
    text = f"{value:+.{digits}f}" if digits else f"{int(value):+d}"
    return text + suffix


def whole(value: float | None) -> int | None:
    return None if value is None else round(value)


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{round(value * 100)}%"


def subscription_age_months(customer: Customer, now: datetime | None = None) -> int | None:
    """Whole 30-day months from sign-up to churn (or now); the recorded tenure when the
    sign-up date is unknown."""
    if customer.created_at is None:
        return whole(customer.tenure_months)
    end = customer.churned_at or now or utcnow()
    return max(0, (_aware(end) - _aware(customer.created_at)).days // 30)
