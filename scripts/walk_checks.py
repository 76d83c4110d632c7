"""The walk's HTTP client and checks: each call is printed as one line (method, path, status,
verdict) and remembered, so the walk can end with a pass/fail count and a non-zero exit.

A check returns the problems it found as short sentences; an empty list is a pass. Checks
look at what the documents show: a field the document gives a value must be present and not
null, numbers must be in their range and totals must add up.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

Json = Any
Check = Callable[[Json], list[str]]


@dataclass
class Outcome:
    method: str
    path: str
    status: int | None
    problems: list[str]
    note: str


@dataclass
class Walker:
    client: httpx.Client
    outcomes: list[Outcome] = field(default_factory=list)

    def call(
        self,
        method: str,
        path: str,
        *,
        expect: int,
        check: Check | None = None,
        note: str = "",
        json: Json = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Json:
        """Sends one request, checks its status and body, prints the verdict and returns the
        parsed body (None when it is not JSON)."""
        shown = path + ("?" + str(httpx.QueryParams(params)) if params else "")
        try:
            response = self.client.request(method, path, json=json, params=params, headers=headers)
        except httpx.HTTPError as exc:
            self.record(method, shown, None, [f"transport error: {exc}"], note)
            return None
        try:
            body = response.json()
        except ValueError:
            body = None
        problems: list[str] = []
        if response.status_code != expect:
            problems.append(f"status {response.status_code}, expected {expect}")
            problems.append(f"body: {response.text[:300]}")
        elif check is not None:
            try:
                problems = check(body)
            except (KeyError, TypeError, IndexError, ValueError, AttributeError) as exc:
                problems = [f"unexpected shape: {type(exc).__name__}: {exc}"]
        self.record(method, shown, response.status_code, problems, note)
        return body

    def record(
        self, method: str, path: str, status: int | None, problems: list[str], note: str
    ) -> None:
        outcome = Outcome(method, path, status, problems, note)
        self.outcomes.append(outcome)
        verdict = "PASS" if not problems else "FAIL"
        detail = note if not problems else "; ".join(problems)
        print(f"{verdict} {method:6} {path} -> {status}: {detail}", flush=True)

    def fail(self, method: str, path: str, problem: str) -> None:
        """A step the walk could not take (e.g. a job that never finished)."""
        self.record(method, path, None, [problem], "")

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if o.problems)


# --- field checks ------------------------------------------------------------------------


def present(obj: Json, *names: str, where: str = "") -> list[str]:
    """Each name is a key of obj with a non-null value."""
    if not isinstance(obj, dict):
        return [f"{where or 'body'} is not an object"]
    prefix = f"{where}." if where else ""
    return [f"{prefix}{n} missing or null" for n in names if obj.get(n) is None]


def keys(obj: Json, *names: str, where: str = "") -> list[str]:
    """Each name is a key of obj (null allowed: for fields whose null the project documents)."""
    if not isinstance(obj, dict):
        return [f"{where or 'body'} is not an object"]
    prefix = f"{where}." if where else ""
    return [f"{prefix}{n} missing" for n in names if n not in obj]


def number(
    obj: Json, name: str, low: float = -math.inf, high: float = math.inf, *, where: str = ""
) -> list[str]:
    label = f"{where}.{name}" if where else name
    value = obj.get(name) if isinstance(obj, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [f"{label} is {value!r}, not a number"]
    if not low <= value <= high or math.isnan(value):
        return [f"{label} = {value} outside [{low}, {high}]"]
    return []


def one_of(obj: Json, name: str, allowed: Iterable[Any], *, where: str = "") -> list[str]:
    label = f"{where}.{name}" if where else name
    value = obj.get(name) if isinstance(obj, dict) else None
    allowed = list(allowed)
    return [] if value in allowed else [f"{label} = {value!r}, not one of {allowed}"]


def text(obj: Json, name: str, *, where: str = "") -> list[str]:
    label = f"{where}.{name}" if where else name
    value = obj.get(name) if isinstance(obj, dict) else None
    return [] if isinstance(value, str) and value.strip() else [f"{label} is {value!r}, not text"]


def non_empty_list(obj: Json, name: str, *, where: str = "") -> list[str]:
    label = f"{where}.{name}" if where else name
    value = obj.get(name) if isinstance(obj, dict) else None
    if not isinstance(value, list):
        return [f"{label} is {value!r}, not a list"]
    return [] if value else [f"{label} is empty"]


def each(items: Json, check: Callable[[Json, str], list[str]], *, where: str) -> list[str]:
    """Runs check on every item of a list; reports the first three items' problems."""
    if not isinstance(items, list):
        return [f"{where} is not a list"]
    problems: list[str] = []
    for index, item in enumerate(items):
        problems += check(item, f"{where}[{index}]")
        if len(problems) >= 3:
            break
    return problems


def close(a: float, b: float, tolerance: float = 1e-6) -> bool:
    return abs(a - b) <= tolerance


# --- error envelopes ----------------------------------------------------------------------


def lead_error(code: str) -> Check:
    """spec/lead-ml.md: {"error": "...", "code": "ERROR_CODE", "details": {}}."""

    def check(body: Json) -> list[str]:
        problems = text(body, "error") + one_of(body, "code", [code])
        if not isinstance(body, dict) or not isinstance(body.get("details"), dict):
            problems.append("details is not an object")
        return problems

    return check


def ml_error(code: str, **details: Any) -> Check:
    """spec/ml-platform.md: {"success": false, "error": {"code", "message", "details"}}."""

    def check(body: Json) -> list[str]:
        problems = one_of(body, "success", [False])
        error = body.get("error") if isinstance(body, dict) else None
        problems += one_of(error, "code", [code], where="error") + text(
            error, "message", where="error"
        )
        found = error.get("details") if isinstance(error, dict) else None
        if not isinstance(found, dict):
            return [*problems, "error.details is not an object"]
        for name, value in details.items():
            if str(found.get(name)) != str(value):
                problems.append(f"error.details.{name} = {found.get(name)!r}, expected {value!r}")
        return problems

    return check


def ml_ok(check: Check) -> Check:
    """spec/ml-platform.md's success envelope around the data check."""

    def wrapped(body: Json) -> list[str]:
        problems = one_of(body, "success", [True])
        if not isinstance(body, dict) or "data" not in body:
            return [*problems, "data missing"]
        return problems + check(body["data"])

    return wrapped
