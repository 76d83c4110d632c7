"""NaN and Infinity inside imported JSON (nested properties, JSON Lines) and nesting too deep
to parse are row errors: the import is refused and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from propensity.crm.errors import ImportRejected
from propensity.crm.service import import_file, import_frame
from propensity.db import Database
from propensity.models import Event
from tests.features.helpers import new_tenant


@pytest.fixture
def tenant(database: Database) -> int:
    tenant_id = new_tenant(database, "acme")
    with database.tenant_session(tenant_id) as session:
        import_frame(
            session,
            kind="customers",
            frame=pd.DataFrame([{"customer_id": "c1", "kind": "subscriber"}]),
        )
    return tenant_id


def _events(database: Database, tenant: int) -> int:
    with database.tenant_session(tenant) as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(Event)) or 0)


def test_nested_non_finite_numbers_reject_the_import(database: Database, tenant: int) -> None:
    events = pd.DataFrame(
        [
            {
                "event_id": "e1",
                "customer_id": "c1",
                "type": "login",
                "occurred_at": "2025-01-01T00:00:00Z",
                "properties": {"nested": {"score": float("nan")}},
            },
            {
                "event_id": "e2",
                "customer_id": "c1",
                "type": "login",
                "occurred_at": "2025-01-02T00:00:00Z",
                "detail": [1.0, float("inf")],
            },
            {
                "event_id": "e3",
                "customer_id": "c1",
                "type": "login",
                "occurred_at": "2025-01-03T00:00:00Z",
                "detail": [1.0, 2.0],
            },
        ]
    )
    with database.tenant_session(tenant) as session, pytest.raises(ImportRejected) as raised:
        import_frame(session, kind="events", frame=events)
    problems = {(e.row, e.column) for e in raised.value.errors}
    assert problems == {(1, "properties"), (2, "detail")}
    assert all("NaN or Infinity" in e.problem for e in raised.value.errors)
    assert _events(database, tenant) == 0


def test_json_lines_with_non_finite_numbers_or_deep_nesting_are_row_errors(
    database: Database, tenant: int, tmp_path: Path
) -> None:
    path = tmp_path / "events.jsonl"
    start = '{"event_id": "e%d", "customer_id": "c1", "type": "login", "occurred_at": "2025-01-01"'
    lines = [
        start % 1 + ', "value": NaN}',
        start % 2 + ', "deep": ' + "[" * 50_000 + "]" * 50_000 + "}",
        start % 3 + ', "properties": {"a": {"b": -Infinity}}}',
        start % 4 + "}",
    ]
    path.write_text("\n".join(lines) + "\n")
    with database.tenant_session(tenant) as session, pytest.raises(ImportRejected) as raised:
        import_file(session, kind="events", path=path)
    messages = {e.row: e.problem for e in raised.value.errors}
    assert "NaN is not a JSON number" in messages[1]
    assert "nested too deeply" in messages[2]
    assert "-Infinity is not a JSON number" in messages[3]
    assert 4 not in messages
    assert _events(database, tenant) == 0
