from __future__ import annotations

import math

import numpy as np

from propensity.narratives import formatting as fmt


def test_numbers() -> None:
    assert fmt.number(3.0) == "3"
    assert fmt.number(1234.0) == "1,234"
    assert fmt.number(1234.56) == "1,235"
    assert fmt.number(52.46) == "52.5"
    assert fmt.number(0.5) == "0.5"
    assert fmt.number(0.333) == "0.33"
    assert fmt.number(-0.001) == "0"


def test_money_percent_days() -> None:
    assert fmt.money(500_000) == "$500,000"
    assert fmt.money(70.35) == "$70.35"
    assert fmt.money(1889.5) == "$1,890"
    assert fmt.money(108.5) == "$108.50"
    assert fmt.money(29.0) == "$29"
    assert fmt.percent(0.674) == "67%"
    assert fmt.percent(1.0) == "100%"
    assert fmt.days(1) == "1 day"
    assert fmt.days(44.6) == "45 days"
    assert fmt.count(1, "login") == "1 login"
    assert fmt.count(3, "activity", "activities") == "3 activities"
    assert fmt.duration(7200) == "2 hours"
    assert fmt.duration(90) == "1.5 minutes"
    assert fmt.duration(3 * 86400) == "3 days"


def test_values_from_any_source() -> None:
    assert fmt.as_float(np.float32(2.5)) == 2.5
    assert fmt.as_float(np.int64(3)) == 3.0
    assert fmt.as_float(math.nan) is None
    assert fmt.as_float(None) is None
    assert fmt.as_float("12") is None
    assert fmt.as_float(True) is None


def test_sentences() -> None:
    assert fmt.join(["a", "b", "c"]) == "a, b and c"
    assert fmt.sentence("3 unresolved tickets") == "3 unresolved tickets."
    assert fmt.lower_first("VP title") == "VP title"
    assert fmt.lower_first("Health score") == "health score"
    assert fmt.lower_title("Low Email Open Rate") == "low email open rate"
