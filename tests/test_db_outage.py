"""A database that cannot be reached: the health check's answer, and the documented 503 the
churn-KPI surface words itself."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from propensity.db import Database, unavailable_on_outage
from propensity.errors import Unavailable


def test_reachable_only_when_the_database_answers(database: Database, tmp_path: Path) -> None:
    assert database.reachable() is True
    missing = Database(f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}")
    try:
        assert missing.reachable() is False
    finally:
        missing.dispose()


def test_an_outage_becomes_unavailable_with_the_callers_message() -> None:
    with pytest.raises(Unavailable) as raised, unavailable_on_outage("Unable to load chart data"):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    assert raised.value.message == "Unable to load chart data"
    assert (raised.value.status_code, raised.value.code) == (503, "DATABASE_UNAVAILABLE")
    # Anything else passes through untouched.
    with pytest.raises(ValueError), unavailable_on_outage("unused"):
        raise ValueError("not an outage")
