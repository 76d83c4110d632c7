"""Many rows into one table in one executemany, with the values every row shares converted once.

SQLAlchemy's executemany converts each row's parameters one by one: building the row's
parameter set, then every column's bind conversion (a JSON dump, a datetime to the
backend's form). For a portfolio's predictions that was about 36 us a row, more than the
database took to write it, and most of it went to values that are the same for every row
of a run (tenant, type, times, status, job). Here the statement is compiled once per
dialect and set of columns; the shared values are converted once; each row converts only
its own values, with the column types' own bind processors. The rows go to the DBAPI in
one executemany on the session's connection, so the transaction, the write signal (its
cursor hook) and the errors are those of any other statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Plan:
    sql: str
    keys: tuple[str, ...]  # the parameters in the statement's order
    positional: bool


_PLANS: dict[tuple[str, str, str, tuple[str, ...]], _Plan] = {}


def _plan(dialect: sa.Dialect, table: sa.Table, keys: tuple[str, ...]) -> _Plan:
    cache_key = (dialect.name, dialect.driver, table.name, keys)
    plan = _PLANS.get(cache_key)
    if plan is None:
        compiled = sa.insert(table).compile(dialect=dialect, column_keys=list(keys))
        order = tuple(compiled.positiontup or ()) if dialect.positional else keys
        # A column left out whose default is computed in Python would get a parameter of its
        # own that no row fills: such columns must be given.
        if set(order) != set(keys) or set(compiled.params) != set(keys):
            raise ValueError(
                f"cannot insert {keys} into {table.name}: the statement binds "
                f"{sorted(compiled.params)}"
            )
        plan = _PLANS[cache_key] = _Plan(
            sql=compiled.string, keys=order, positional=dialect.positional
        )
    return plan


def _processor(dialect: sa.Dialect, table: sa.Table, key: str) -> Processor:
    column_type = table.c[key].type
    return column_type.dialect_impl(dialect).bind_processor(dialect)


def insert_many(
    connection: sa.Connection,
    table: sa.Table,
    *,
    shared: Mapping[str, Any],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> int:
    """Inserts one row per item of `rows` (values for `columns`, in order), each with the
    `shared` values too. Returns the number of rows. Every column whose default is computed
    in Python must be given (ValueError otherwise)."""
    rows = list(rows)
    if not rows:
        return 0
    dialect = connection.dialect
    plan = _plan(dialect, table, (*shared, *columns))
    converted = {
        key: (process(value) if (process := _processor(dialect, table, key)) else value)
        for key, value in shared.items()
    }
    # Per parameter of the statement: where its value comes from (the row's position, or
    # the shared value) and the conversion a row's own value needs.
    position = {key: i for i, key in enumerate(columns)}
    sources: list[tuple[int, Processor, Any]] = [
        (position[key], _processor(dialect, table, key), None)
        if key in position
        else (-1, None, converted[key])
        for key in plan.keys
    ]
    params: list[Any] = []
    for row in rows:
        values = [
            (process(row[at]) if process is not None else row[at]) if at >= 0 else value
            for at, process, value in sources
        ]
        params.append(
            tuple(values) if plan.positional else dict(zip(plan.keys, values, strict=True))
        )
    connection.exec_driver_sql(plan.sql, params)
    return len(params)
