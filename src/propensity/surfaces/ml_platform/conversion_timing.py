"""The timeframe of `POST /predict/conversion` ("30d") and the band its TIME_TO_CLOSE median
falls in (the chance of closing within it: predictions/close_within.py)."""

from __future__ import annotations

import re

from propensity.errors import InvalidInput

TIMEFRAME = re.compile(r"^([1-9][0-9]{0,2})d$")
MAX_TIMEFRAME_DAYS = 365
# (upper bound in days, label): the median's band; beyond a year is capped like lead-ml's
# predictedDays (MAX_DAYS 365).
BANDS = (
    (7.0, "0-7 days"),
    (15.0, "7-15 days"),
    (30.0, "15-30 days"),
    (60.0, "30-60 days"),
    (90.0, "60-90 days"),
    (180.0, "90-180 days"),
    (365.0, "180-365 days"),
)
BEYOND = "over 365 days"


def parse_timeframe(value: str | None) -> int:
    text = "30d" if value is None else value.strip().lower()
    match = TIMEFRAME.match(text)
    if match is None or int(match.group(1)) > MAX_TIMEFRAME_DAYS:
        raise InvalidInput(
            f"Invalid timeframe '{value}': give days as e.g. 7d, 30d or 90d "
            f"(1d to {MAX_TIMEFRAME_DAYS}d)",
            code="VALIDATION_ERROR",
            details={"field": "timeframe"},
        )
    return int(match.group(1))


def band(median_days: float) -> str:
    for upper, label in BANDS:
        if median_days <= upper:
            return label
    return BEYOND
