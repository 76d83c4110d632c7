"""Checks an LLM answer against the facts it was given; any failure rejects the whole answer.

1. Shape: JSON (a ```json fence is tolerated), exactly the schema's fields and types, no
   empty or overlong text.
2. Drivers: every `feature` named is one of the given contributions, at most once.
3. Recommendations: exactly the candidate actions, each once (the LLM words them, it does
   not choose them); ranked-lead reasoning: exactly the given leads, each once.
4. Numbers: every number in the text appears in the facts, allowing formatting: rounding to
   the precision written (0.7234 may read 0.72 or 72%), thousands separators and sign
   ("dropped 26 points" for -26). Words are not numbers: "three" is not checked.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

from propensity.llm.facts import Facts
from propensity.llm.schemas import SCHEMAS

MAX_TEXT = 1200
MAX_DRIVERS = 5
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)
# A number as written: digits with optional thousands separators and decimals, optional %.
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(\s?%)?")


class Rejected(Exception):
    """The answer says something the facts do not; `reason` says what."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse(content: str) -> Any:
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        return json.loads(text)
    except ValueError:
        raise Rejected("LLM answer is not valid JSON") from None


def check_shape(value: Any, schema: dict[str, Any], path: str = "answer") -> None:
    kind = schema["type"]
    if kind == "object":
        if not isinstance(value, dict):
            raise Rejected(f"{path} must be an object")
        expected = set(schema["properties"])
        missing = sorted(expected - set(value))
        extra = sorted(set(value) - expected)
        if missing or extra:
            raise Rejected(f"{path} has missing {missing} or unexpected {extra} fields")
        for name, sub in schema["properties"].items():
            check_shape(value[name], sub, f"{path}.{name}")
    elif kind == "array":
        if not isinstance(value, list):
            raise Rejected(f"{path} must be a list")
        for i, item in enumerate(value):
            check_shape(item, schema["items"], f"{path}[{i}]")
    elif kind == "string":
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
            raise Rejected(f"{path} must be non-empty text of at most {MAX_TEXT} characters")
    elif kind == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
        raise Rejected(f"{path} must be an integer")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _numbers(value: Any) -> Iterator[float]:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        if math.isfinite(float(value)):
            yield abs(float(value))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)


def numbers_in_text(text: str) -> list[tuple[float, int, bool]]:
    """(value, decimals written, is a percentage) for each number in `text`."""
    found = []
    for whole, decimals, percent in _NUMBER.findall(text):
        written = whole.replace(",", "") + (decimals or "")
        found.append((float(written), max(len(decimals) - 1, 0), bool(percent)))
    return found


def allowed_numbers(facts: dict[str, Any]) -> list[float]:
    """Every number in the facts: the JSON numbers and the numbers written in its texts,
    each also as a percentage when it is a share (0 to 1)."""
    values = set(_numbers(facts))
    for text in _strings(facts):
        values.update(v for v, _, _ in numbers_in_text(text))
    shares = {round(v * 100, 6) for v in values if v <= 1}
    return sorted(values | shares)


def _grounded(number: float, decimals: int, allowed: list[float]) -> bool:
    # The fact rounds to the number at the precision it is written with.
    tolerance = 0.5 * 10 ** (-decimals) + 1e-9
    return any(abs(a - number) <= tolerance for a in allowed)


def check_numbers(texts: list[str], facts: dict[str, Any]) -> None:
    allowed = allowed_numbers(facts)
    for text in texts:
        for number, decimals, _percent in numbers_in_text(text):
            if not _grounded(number, decimals, allowed):
                raise Rejected(f"LLM answer states a number not in the facts ({number:g})")


def _check_recommendations(items: list[dict[str, Any]], facts: Facts) -> None:
    actions = [str(item["action"]).strip() for item in items]
    if sorted(actions) != sorted(facts.actions):
        unknown = sorted(set(actions) - set(facts.actions))
        if unknown:
            raise Rejected(f"LLM answer recommends an action not among the candidates: {unknown}")
        raise Rejected("LLM answer must word each candidate recommendation exactly once")


def _check_drivers(items: list[dict[str, Any]], facts: Facts) -> None:
    names = [str(item["feature"]).strip() for item in items]
    unknown = sorted(set(names) - facts.features)
    if unknown:
        raise Rejected(f"LLM answer names a driver not among the contributions: {unknown}")
    if len(set(names)) != len(names) or len(names) > MAX_DRIVERS:
        raise Rejected("LLM answer repeats drivers or names too many")
    if not names and any(c.effect == "risk" for c in facts.contributions):
        raise Rejected("LLM answer names no driver")


def _check_leads(items: list[dict[str, Any]], facts: Facts) -> None:
    ids = [int(item["leadId"]) for item in items]
    if sorted(ids) != sorted(facts.lead_ids):
        raise Rejected("LLM answer must give reasoning for exactly the given leads")


def check(content: str, facts: Facts) -> dict[str, Any]:
    """The parsed answer when it passes every check; raises Rejected otherwise."""
    parsed = parse(content)
    check_shape(parsed, SCHEMAS[facts.task])
    answer: dict[str, Any] = parsed
    if "recommendations" in answer:
        _check_recommendations(answer["recommendations"], facts)
    if "primaryChurnDrivers" in answer:
        _check_drivers(answer["primaryChurnDrivers"], facts)
    if "leads" in answer:
        _check_leads(answer["leads"], facts)
    texts = [
        s
        for s in _strings(answer)
        if s not in facts.actions and s not in facts.features and not s.isidentifier()
    ]
    check_numbers(texts, facts.to_dict())
    return answer
