"""`tenant_read`: the hot serving path's prebuilt SELECTs, run on the driver's cursor.

A fresh answer reads half a dozen small rows by key (the tenant's history stamp, the entity,
its stored state, which model serves, the webhook subscriptions). SQLite finds each in about
10 us; Core's execution of the same prebuilt statement cost 70-110 us more (its execution
context, parameter processing, the result object and a Row per row). Here each statement is
compiled once per dialect and per length of its IN lists, the parameters are converted with
the bound types' own processors, the query runs on the session's own DBAPI connection (its
transaction), and the values come back converted by the column types' own result processors:
what Core would have returned, for a tenth of the cost.

Only reads come here. Writes go through Core, whose cursor hook tells the write signal
(write_signal.py) that the connection wrote. A driver error is raised as Core raises it
(wrapped in SQLAlchemy's DBAPIError), and a connection the server dropped is invalidated as
Core would, so the outage handling upstream sees the same exceptions either way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import TENANT_PARAM, statement_tenant

Processor = Callable[[Any], Any] | None
Select = sa.Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class _Compiled:
    """A statement compiled for one dialect, before its IN lists are expanded."""

    compiled: Any
    expanding: tuple[str, ...]  # the parameters that are lists


@dataclass(frozen=True)
class _Plan:
    """The SQL for one set of IN-list lengths, and where each of its parameters comes from:
    (the caller's parameter, the position in its list or -1, a constant when the name is
    neither, the bound type's processor)."""

    sql: str
    names: tuple[str, ...] | None  # the driver's parameter names; None for positional
    sources: tuple[tuple[str | None, int, Any, Processor], ...]


# Plain dicts, read without a lock: every request reads them several times, a dict's get and
# set are atomic, and two threads building the same entry build equal ones. The statements are
# module-level and IN lists have at most MAX_IN_LIST lengths, so they stay small; the bound
# only guards against a caller building statements per call.
_LIMIT = 4096
_COMPILED: dict[tuple[Any, ...], _Compiled] = {}
_PLANS: dict[tuple[Any, ...], _Plan] = {}
_RESULTS: dict[tuple[Any, ...], tuple[Processor, ...]] = {}


def _keep(cache: dict[tuple[Any, ...], Any], key: tuple[Any, ...], value: Any) -> None:
    if len(cache) >= _LIMIT:
        cache.clear()
    cache[key] = value


def _compiled(statement: Select, dialect: sa.Dialect) -> _Compiled:
    key = (statement, dialect.name, dialect.driver)
    found = _COMPILED.get(key)
    if found is None:
        compiled = statement.compile(dialect=dialect)
        expanding = tuple(name for name, bind in compiled.binds.items() if bind.expanding)
        found = _Compiled(compiled=compiled, expanding=expanding)
        _keep(_COMPILED, key, found)
    return found


def _plan(statement: Select, dialect: sa.Dialect, params: dict[str, Any]) -> _Plan:
    base = _compiled(statement, dialect)
    lengths = tuple(len(params[name]) for name in base.expanding)
    key = (statement, dialect.name, dialect.driver, lengths)
    plan = _PLANS.get(key)
    if plan is not None:
        return plan
    state = base.compiled.construct_expanded_state(params)
    origin: dict[str, tuple[str, int]] = {
        expanded: (name, i)
        for name, names in state.parameter_expansion.items()
        for i, expanded in enumerate(names)
    }
    order = tuple(state.positiontup) if state.positiontup is not None else tuple(state.parameters)
    sources: list[tuple[str | None, int, Any, Processor]] = []
    for name in order:
        process = state.processors.get(name)
        if name in origin:
            sources.append((origin[name][0], origin[name][1], None, process))
        elif name in params:
            sources.append((name, -1, None, process))
        else:  # a value the statement carries itself (LIMIT 1)
            value = state.parameters[name]
            sources.append((None, -1, process(value) if process else value, None))
    plan = _Plan(
        sql=state.statement,
        names=None if state.positiontup is not None else order,
        sources=tuple(sources),
    )
    _keep(_PLANS, key, plan)
    return plan


def _bind(plan: _Plan, params: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
    values = []
    for name, at, constant, process in plan.sources:
        if name is None:
            values.append(constant)
            continue
        value = params[name] if at < 0 else params[name][at]
        values.append(process(value) if process is not None else value)
    if plan.names is None:
        return tuple(values)
    return dict(zip(plan.names, values, strict=True))


def _result_processors(
    statement: Select, dialect: sa.Dialect, codes: tuple[Any, ...]
) -> tuple[Processor, ...]:
    """Each column's conversion, as Core picks it: its type's result processor for the type
    code the cursor reports."""
    key = (statement, dialect.name, dialect.driver, codes)
    found = _RESULTS.get(key)
    if found is None:
        found = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, code)
            for column, code in zip(statement.selected_columns, codes, strict=True)
        )
        _keep(_RESULTS, key, found)
    return found


@dataclass(frozen=True)
class Read:
    """The rows as the driver returned them, converted when asked for."""

    rows: list[tuple[Any, ...]]
    processors: tuple[Processor, ...]

    def _converted(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(
            value if process is None else process(value)
            for value, process in zip(row, self.processors, strict=True)
        )

    def all(self) -> list[tuple[Any, ...]]:
        if not any(self.processors):
            return self.rows
        return [self._converted(row) for row in self.rows]

    def first(self) -> tuple[Any, ...] | None:
        return self._converted(self.rows[0]) if self.rows else None

    def scalar(self) -> Any:
        row = self.first()
        return None if row is None else row[0]

    def columns(self) -> list[Sequence[Any]]:
        """The values column by column: without a tuple per row, which for a whole entity
        table cost more than the query."""
        width = len(self.processors)
        if not self.rows:
            return [()] * width
        columns: list[Sequence[Any]] = list(zip(*self.rows, strict=True))
        for j, process in enumerate(self.processors):
            if process is not None:
                columns[j] = [process(value) for value in columns[j]]
        return columns


def tenant_read(session: Session, statement: Select, params: dict[str, Any] | None = None) -> Read:
    """Runs a prebuilt SELECT that filters by a `tenant` parameter (db.tenant_matches) on the
    session's connection, with the session's tenant bound to it. Pending ORM changes are
    flushed first, as session.execute would."""
    tenant_id = statement_tenant(session, statement)
    if session.autoflush:
        session.flush()
    connection = session.connection()
    dialect = connection.dialect
    params = {**(params or {}), TENANT_PARAM: tenant_id}
    plan = _plan(statement, dialect, params)
    values = _bind(plan, params)
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is None:  # invalidated: let Core reconnect and raise or run it
        result = connection.execute(statement, params)
        return Read(rows=[tuple(row) for row in result], processors=(None,) * len(result.keys()))
    cursor = None
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute(plan.sql, values)
        rows = list(cursor.fetchall())
        codes = tuple(field[1] for field in cursor.description)
    except dialect.loaded_dbapi.Error as exc:
        _raise_as_core(connection, exc, plan.sql, values, cursor)
    finally:
        if cursor is not None:
            cursor.close()
    return Read(rows=rows, processors=_result_processors(statement, dialect, codes))


def _raise_as_core(
    connection: sa.Connection, exc: Exception, sql: str, values: Any, cursor: Any
) -> NoReturn:
    """What Core does with a driver error: invalidate a connection the server dropped, and
    raise SQLAlchemy's wrapper of the error (OperationalError, IntegrityError, ...)."""
    dialect = connection.dialect
    dbapi_connection = connection.connection.dbapi_connection
    dropped = bool(dialect.is_disconnect(exc, dbapi_connection, cursor))  # type: ignore[arg-type]
    if dropped:
        connection.invalidate(exc)
    raise sa.exc.DBAPIError.instance(
        sql,
        values,
        exc,
        dialect.loaded_dbapi.Error,
        hide_parameters=connection.engine.hide_parameters,
        dialect=dialect,
        connection_invalidated=dropped,
    ) from exc
