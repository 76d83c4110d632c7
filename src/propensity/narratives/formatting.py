"""How numbers read in narrative text.

One place decides precision so every sentence formats a value the same way, and so the tests
can recover which input a printed number came from (see tests/narratives/numbers.py).
"""

from __future__ import annotations

import math
from datetime import date


def is_number(value: object) -> bool:
    """A finite int or float (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def as_float(value: object) -> float | None:
    """The value as a finite float, or None for missing, NaN, text and booleans."""
    if is_number(value):
        return float(value)  # type: ignore[arg-type]
    # numpy scalars are not int/float subclasses for every dtype; accept anything float()-able
    # that is not text or a boolean.
    if value is None or isinstance(value, str | bool | bytes):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def decimals_for(value: float) -> int:
    """Integers print without decimals; otherwise two significant digits after the point for
    small values, one from 10 and none from 100 (a count of 1,234.5 reads as 1,235)."""
    magnitude = abs(value)
    if magnitude >= 100 or float(value).is_integer():
        return 0
    if magnitude >= 10:
        return 1
    return 2


def number(value: float) -> str:
    """A plain number: thousands separators, precision from `decimals_for`, no trailing
    zeros ("0.5", "12", "1,234")."""
    digits = decimals_for(value)
    text = f"{value:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def count(value: float, singular: str, plural: str | None = None) -> str:
    """ "1 login", "3 logins", "2.5 hours"."""
    word = singular if value == 1 else (plural or singular + "s")
    return f"{number(value)} {word}"


def money(value: float) -> str:
    """Dollars with thousands separators; cents only below $1,000 when they are not zero
    ("$70.35", "$108.50", "$1,890", "$500,000"): cents matter on a monthly charge, not on a
    budget."""
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if magnitude < 1000 and not round(magnitude, 2).is_integer():
        return f"{sign}${magnitude:,.2f}"
    return f"{sign}${round(magnitude):,}"


def percent(rate: float) -> str:
    """A rate in [0, 1] as a rounded percentage: 0.674 -> "67%"."""
    return f"{round(rate * 100):d}%"


def percent_value(value: float) -> str:
    """A value already in percent points, rounded: 12.4 -> "12%"."""
    return f"{round(value):d}%"


def days(value: float) -> str:
    """ "1 day", "45 days" (rounded to whole days)."""
    whole = round(value)
    return f"{whole:,} day" if abs(whole) == 1 else f"{whole:,} days"


def duration(seconds: float) -> str:
    """A response time in the largest unit that keeps it at least 1: minutes, hours or days
    (seconds / 60, / 3,600, / 86,400), rounded as `number` rounds."""
    for unit, size in (("day", 86_400.0), ("hour", 3_600.0), ("minute", 60.0)):
        if seconds >= size:
            return count(_round_sig(seconds / size), unit)
    return count(round(seconds), "second")


def _round_sig(value: float) -> float:
    return round(value, decimals_for(value))


def when(day: date) -> str:
    return day.isoformat()


def join(items: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def sentence(text: str) -> str:
    """Capitalised first letter, and a full stop unless one is there."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an acronym ("VP", "ARR")."""
    if not text:
        return text
    first = text.split(" ", 1)[0]
    if len(first) > 1 and first.isupper():
        return text
    return text[0].lower() + text[1:]


def lower_title(title: str) -> str:
    """A title inside a sentence: "Low Email Open Rate" -> "low email open rate", keeping
    acronyms ("VP", "ARR")."""
    return " ".join(w if len(w) > 1 and w.isupper() else w.lower() for w in title.split())
