"""ISO 8601 formatting as the documents show it: UTC with a trailing Z."""

from __future__ import annotations

from datetime import UTC, date, datetime


def iso_z(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def iso_date(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date()
    return value.isoformat()
