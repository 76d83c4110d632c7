"""Bulk upserts: chunked `INSERT ... ON CONFLICT (...) DO UPDATE` in the caller's transaction.

No ORM objects per row, and no per-row parameter dictionaries either: the demo imports a
million events, and SQLAlchemy's per-row parameter handling alone would cost more than
SQLite's writes. So each statement is compiled once by SQLAlchemy for the session's
dialect, values go through the columns' own bind processors one column at a time, and
the rows go to the driver's executemany.

Core statements bypass the session's tenant hooks, so every row's tenant_id is set here,
from the session's own tenant, never from the data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.compiler import SQLCompiler

from propensity.db import TENANT_KEY, TenantScopeError
from propensity.errors import Unavailable

DEFAULT_CHUNK_SIZE = 5000
# Bound parameters per key lookup; below every supported backend's limit.
LOOKUP_CHUNK = 5000
# SQLite page cache while importing, in KiB (allocated only as pages are used).
SQLITE_IMPORT_CACHE_KIB = 256 * 1024

Progress = Callable[[int], None]


def session_tenant(session: Session) -> int:
    tenant_id = session.info.get(TENANT_KEY)
    if not isinstance(tenant_id, int):
        raise TenantScopeError("imports need a session bound to a tenant")
    return tenant_id


def upsert(
    session: Session,
    *,
    table: sa.Table,
    columns: Mapping[str, Sequence[Any]],
    conflict: Sequence[str],
    update: Sequence[str],
    constants: Mapping[str, Any] | None = None,
    known: Sequence[bool] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Progress | None = None,
) -> None:
    """Inserts or updates one row per position of `columns`.

    `constants` go into every row; a conflicting row takes the new values of the
    columns in `update`. `known` marks rows believed to exist already: the others are
    sent as plain inserts, because on SQLite with foreign keys on, an INSERT carrying a
    DO UPDATE clause is about twice as slow as one that does not. A row that turns out
    to exist anyway (a concurrent import) is caught by the row count and upserted.
    """
    names = list(columns)
    lists = [columns[name] for name in names]
    total = len(lists[0]) if lists else 0
    if total == 0:
        return
    fixed = {**(constants or {}), "tenant_id": session_tenant(session)}
    connection = session.connection()
    dialect = connection.dialect
    _fill_defaults(table, [*names, *fixed], fixed)
    all_names = names + [name for name in fixed if name not in columns]
    plain = _compiled(dialect, table, all_names, conflict=conflict, update=None)
    merge = _compiled(dialect, table, all_names, conflict=conflict, update=update)
    targets = [table.c[name] for name in names]
    fixed_processed = {
        name: _processed(table.c[name], dialect, [value])[0] for name, value in fixed.items()
    }
    with _sqlite_cache(connection):
        for start in range(0, total, chunk_size):
            stop = min(start + chunk_size, total)
            # Chunk by chunk, so that a million rows are not held twice over.
            chunk = [
                _processed(column, dialect, values[start:stop])
                for column, values in zip(targets, lists, strict=True)
            ]
            rows = _rows(plain, names, chunk, fixed_processed)
            flags = known[start:stop] if known is not None else ()
            if any(flags):
                new = [row for row, flag in zip(rows, flags, strict=True) if not flag]
                old = [row for row, flag in zip(rows, flags, strict=True) if flag]
            else:
                new, old = rows, []
            if new:
                inserted = connection.exec_driver_sql(plain.string, new).rowcount
                if inserted != len(new):
                    connection.exec_driver_sql(merge.string, new)
            if old:
                connection.exec_driver_sql(merge.string, old)
            if progress is not None:
                progress(stop - start)


def _compiled(
    dialect: Dialect,
    table: sa.Table,
    names: Sequence[str],
    *,
    conflict: Sequence[str],
    update: Sequence[str] | None,
) -> SQLCompiler:
    values: dict[str, Any] = {name: sa.bindparam(name) for name in names}
    index = [table.c[name] for name in conflict]
    if dialect.name not in ("sqlite", "postgresql"):
        raise Unavailable(f"Imports support SQLite and PostgreSQL, not {dialect.name}")
    # Both dialects spell upserts alike (ON CONFLICT ... excluded.name); only the module differs.
    insert = sqlite.insert if dialect.name == "sqlite" else postgresql.insert
    statement = insert(table).inline().values(values)
    if update is None:
        return _compile(statement.on_conflict_do_nothing(index_elements=index), dialect)
    changes = {name: statement.excluded[name] for name in update}
    return _compile(statement.on_conflict_do_update(index_elements=index, set_=changes), dialect)


def _compile(statement: sa.Insert, dialect: Dialect) -> SQLCompiler:
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    return compiled


def _fill_defaults(table: sa.Table, names: Sequence[str], fixed: dict[str, Any]) -> None:
    """Values for columns with a Python-side default that the caller did not give.

    A compiled INSERT asks for them, and executemany would otherwise fail for the lack
    of a parameter. One value serves every row (one import, one timestamp).
    """
    for column in table.columns:
        default = column.default
        if column.name in names or default is None or not isinstance(default, sa.ColumnDefault):
            continue
        fixed[column.name] = default.arg(None) if default.is_callable else default.arg


def _processed(column: sa.Column[Any], dialect: Dialect, values: Sequence[Any]) -> list[Any]:
    """The driver-level values of one column, as SQLAlchemy would bind them.

    Two shortcuts, each checked against the real processor first: empty JSON objects
    are serialised once, and naive UTC datetimes on SQLite are formatted by
    `datetime.isoformat` in C (SQLAlchemy's own formatter costs ~3 s per million).
    """
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    if processor is None:
        return list(values)
    if isinstance(column.type, sa.JSON):
        empty = processor({})
        return [
            empty if type(value) is dict and not value else processor(value) for value in values
        ]
    sample = next((value for value in values if value is not None), None)
    if (
        dialect.name == "sqlite"
        and type(sample) is datetime
        and sample.tzinfo is None
        and processor(sample) == sample.isoformat(" ", "microseconds")
        and all(type(v) is datetime and v.tzinfo is None for v in values if v is not None)
    ):
        return [None if v is None else v.isoformat(" ", "microseconds") for v in values]
    return [processor(value) for value in values]


def _rows(
    compiled: SQLCompiler,
    names: Sequence[str],
    chunk: Sequence[Sequence[Any]],
    fixed: Mapping[str, Any],
) -> list[Any]:
    """Driver parameters in the compiled statement's order (positional or named)."""
    order = compiled.positiontup
    size = len(chunk[0]) if chunk else 0
    if order is None:
        return [{**fixed, **dict(zip(names, row, strict=True))} for row in zip(*chunk, strict=True)]
    by_name = dict(zip(names, chunk, strict=True))
    columns = [by_name[name] if name in by_name else [fixed[name]] * size for name in order]
    return list(zip(*columns, strict=True))


@contextmanager
def _sqlite_cache(connection: Connection) -> Iterator[None]:
    """A large page cache for the duration of a bulk write on SQLite.

    With the default 2 MB cache, a transaction that touches a million index entries
    keeps spilling pages to the WAL and reading them back.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous)}")


def existing_keys(
    session: Session,
    *,
    columns: Sequence[InstrumentedAttribute[Any]],
    filter_column: InstrumentedAttribute[Any],
    values: Sequence[Any],
) -> set[tuple[Any, ...]]:
    """Key tuples already stored for this tenant among rows whose `filter_column` is in
    `values`. ORM attributes make this an ORM select, so the tenant filter applies."""
    distinct = list(dict.fromkeys(v for v in values if v is not None))
    if not distinct:
        return set()
    table_rows = session.scalar(sa.select(sa.func.count()).select_from(columns[0].class_))
    if table_rows is not None and table_rows <= 2 * len(distinct):
        # Reading the tenant's whole key column beats a thousand IN lookups when the
        # input is about as large as what is stored (a re-import, a first import).
        wanted = set(distinct)
        rows = session.execute(sa.select(*columns, filter_column))
        return {tuple(row[:-1]) for row in rows if row[-1] in wanted}
    found: set[tuple[Any, ...]] = set()
    for start in range(0, len(distinct), LOOKUP_CHUNK):
        chunk = distinct[start : start + LOOKUP_CHUNK]
        query = sa.select(*columns).where(filter_column.in_(chunk))
        found.update(tuple(row) for row in session.execute(query))
    return found


def existing_ids(
    session: Session,
    *,
    column: InstrumentedAttribute[Any],
    id_column: InstrumentedAttribute[Any],
    values: Sequence[Any],
) -> list[int]:
    """Database ids of this tenant's rows whose `column` is in `values` (ORM select: the tenant
    filter applies)."""
    distinct = list(dict.fromkeys(v for v in values if v is not None))
    found: list[int] = []
    for start in range(0, len(distinct), LOOKUP_CHUNK):
        chunk = distinct[start : start + LOOKUP_CHUNK]
        found.extend(int(i) for i in session.scalars(sa.select(id_column).where(column.in_(chunk))))
    return found
