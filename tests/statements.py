"""The SQL a block of test code sends: every statement on the database's engine, in order."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from propensity.db import Database


@contextmanager
def captured_statements(database: Database) -> Iterator[list[tuple[str, Any]]]:
    """(statement, parameters) of every statement run inside the block."""
    seen: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    event.listen(database.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", note)
