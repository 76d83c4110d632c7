"""A scheduled task goes on past any tenant's failure, whatever it raises."""

from __future__ import annotations

import sqlite3

from propensity.errors import InsufficientData
from propensity.jobs.isolation import each
from propensity.metrics import PERIODIC_FAILURES


def test_every_item_runs_whatever_the_others_raise() -> None:
    before = PERIODIC_FAILURES.labels(task="test.isolation")._value.get()

    def act(tenant_id: int) -> int:
        if tenant_id == 2:
            raise sqlite3.OperationalError("malformed JSON")  # a damaged row, say
        if tenant_id == 3:
            raise InsufficientData("no data yet")
        return tenant_id * 10

    assert each([1, 2, 3, 4], act, task="test.isolation") == {1: 10, 4: 40}
    assert PERIODIC_FAILURES.labels(task="test.isolation")._value.get() == before + 2
