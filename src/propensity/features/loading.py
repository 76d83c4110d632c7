"""One query per table into numpy/pandas: entities, their events, health snapshots.

Entities (thousands of rows, JSON attributes) go through the tenant-scoped ORM session into
numpy columns (columns.py). Events and health snapshots (up to millions of rows) are read
straight from the DBAPI cursor with an explicit `tenant_id` filter on every table in the
statement (`fetch_raw`), since that path bypasses the session's automatic scoping. Event
timestamps come in a form that converts without a Python object per row where the backend
allows (SQLite: the stored ISO text, parsed by pandas in C; PostgreSQL: epoch seconds as a
double).
"""

from __future__ import annotations

import json
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import TENANT_KEY, TenantScopeError, tenant_execute, tenant_matches
from propensity.features.columns import Columns, object_array
from propensity.features.policy import CUSTOMER_COLUMNS, LEAD_COLUMNS
from propensity.features.times import small_to_us, to_us
from propensity.features.windows import NO_END, NO_START, FloatArray, IntArray
from propensity.models import Customer, Event, HealthSnapshot, Lead, LeadScoringConfig

# Above this many requested ids, load the whole kind and filter in memory: one big IN list
# is slower than a scan and may exceed a backend's parameter limit.
MAX_IN_LIST = 2000
# Up to this many requested ids, raw queries keep their parameters bound (see fetch_raw).
SMALL_IDS = 64
# Up to this many stored timestamps, text is parsed in Python (pandas' parser has a fixed cost).
SMALL_TEXT_TIMES = 512
TICKET_TYPES = ("ticket_opened", "ticket_resolved")
HEALTH_DIMENSIONS = (
    "engagement",
    "product_adoption",
    "support_satisfaction",
    "executive_relationship",
)


@dataclass(frozen=True, kw_only=True)
class Entities:
    """Customers of one kind, or leads; row i is entity code i (sorted by database id)."""

    subject: str  # "customer" or "lead"
    kind: str | None
    ids: IntArray
    external_ids: npt.NDArray[np.object_]
    created: IntArray  # NO_START when unknown
    # The time the entity left the population (churned_at; the earlier of converted_at and
    # lost_at), NO_END when it has not.
    ended: IntArray
    # Typed columns, outcome columns and derived inputs: raw values in object arrays, except
    # the int64 times of leads (converted_at_us, lost_at_us; NO_END when none).
    columns: Columns
    # The JSON attributes: one object array of raw JSON values per key of any row (None where
    # a row has no such key or a null), keys in first-seen order. No type inference.
    attributes: Columns

    def __len__(self) -> int:
        return len(self.ids)

    def codes_of(self, ids: Sequence[int] | IntArray) -> IntArray:
        """Entity codes of database ids; -1 for ids not in this table."""
        wanted = np.asarray(ids, dtype=np.int64)
        if len(self.ids) == 0:
            return np.full(len(wanted), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.ids, wanted), len(self.ids) - 1)
        return np.where(self.ids[pos] == wanted, pos, -1).astype(np.int64)


@dataclass(frozen=True, kw_only=True)
class Events:
    """Events of the loaded entities, unsorted; `code` indexes the Entities table."""

    code: IntArray
    time: IntArray
    type_code: npt.NDArray[np.int32]
    type_names: tuple[str, ...]
    value: FloatArray
    ticket: npt.NDArray[np.object_]  # ticket_id of ticket events, else None
    sequence_step: FloatArray  # properties.sequence_step of email_sent, else NaN
    # Event types that exist for this kind of entity in the tenant (not just the loaded ones).
    present_types: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.code)

    def mask(self, *types: str) -> npt.NDArray[np.bool_]:
        wanted = [i for i, name in enumerate(self.type_names) if name in types]
        return np.isin(self.type_code, wanted)


@dataclass(frozen=True, kw_only=True)
class Health:
    code: IntArray
    time: IntArray  # the snapshot date's midnight (UTC)
    scores: dict[str, FloatArray]  # overall + the four dimensions

    def __len__(self) -> int:
        return len(self.code)


Processors = tuple[Any, ...]
_PROCESSORS: dict[tuple[Any, str, tuple[Any, ...]], Processors] = {}


def tenant_columns(
    session: Session, statement: sa.Select[*tuple[Any, ...]], params: dict[str, Any]
) -> list[Sequence[Any]]:
    """The rows of a prebuilt statement (tenant_execute) as columns, each value converted as
    SQLAlchemy's Row would have it: its column type's result processor for the type code the
    cursor reports. Without a Row object per row, which for a whole entity table cost more
    than the query."""
    result = tenant_execute(session, statement, params)
    cursor = result.cursor
    codes = tuple(field[1] for field in cursor.description)
    rows = cursor.fetchall()
    width = len(codes)
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * width
    dialect = result.dialect
    key = (statement, dialect.name, codes)
    processors = _PROCESSORS.get(key)
    if processors is None:
        processors = _PROCESSORS[key] = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, code)
            for column, code in zip(statement.selected_columns, codes, strict=True)
        )
    for j, process in enumerate(processors):
        if process is not None:
            columns[j] = [process(value) for value in columns[j]]
    return columns


def _stored_time(column: Any) -> Any:
    """A time column as the driver returns it, without the column type's conversion to a
    datetime per row: SQLite's stored text (to_us parses many at once), PostgreSQL's
    datetime. to_us reads both, as it reads the converted values."""
    return sa.type_coerce(column, sa.String())


def _attributes_text(column: Any) -> Any:
    """The JSON attributes as the stored text: `_attribute_columns` parses every row's in one
    call, five times faster for many rows than the column type's parse per row."""
    return sa.cast(column, sa.Text)


_NO_KEYS: dict[str, Any] = {}


def _attribute_columns(texts: Sequence[str | None]) -> Columns:
    """A column per key of any row (first-seen order, as pandas' from_records had it), each
    value as JSON gave it; None for a missing key, a null, or a row that is not an object."""
    values = json.loads("[" + ",".join(t if t is not None else "null" for t in texts) + "]")
    records = [v if isinstance(v, dict) else _NO_KEYS for v in values]
    names = dict.fromkeys(chain.from_iterable(records))
    n = len(records)
    return Columns(
        {name: object_array(map(operator.methodcaller("get", name), records), n) for name in names},
        length=n,
    )


def load_customers(session: Session, *, kind: str | None, ids: IntArray | None = None) -> Entities:
    """Customers of `kind` (all kinds when None), or only those with these database ids (a
    few, by the primary key; see ColumnPlan for what a partial table may not decide)."""
    params: dict[str, Any] = {"kind": kind}
    if ids is not None:
        params["ids"] = [int(i) for i in ids]
    cols = tenant_columns(session, _customers_statement(kind is not None, ids is not None), params)
    columns = _object_columns(
        [*CUSTOMER_COLUMNS, "kind", "churned", "account_type", "email"],
        [*cols[9:], cols[2], cols[5], cols[6], cols[7]],
    )
    return Entities(
        subject="customer",
        kind=kind,
        ids=np.asarray(cols[0], dtype=np.int64),
        external_ids=np.asarray(cols[1], dtype=object),
        created=to_us(list(cols[3]), fill=NO_START),
        ended=to_us(list(cols[4]), fill=NO_END),
        columns=columns,
        attributes=_attribute_columns(cols[8]),
    )


@cache
def _customers_statement(by_kind: bool, by_ids: bool) -> sa.Select[*tuple[Any, ...]]:
    """load_customers' statement for each shape, built once (a one-entity build spent more
    on building it than on running it); parameters tenant, kind and ids."""
    fields = [getattr(Customer, name) for name in CUSTOMER_COLUMNS]
    stmt = sa.select(
        Customer.id,
        Customer.external_id,
        Customer.kind,
        _stored_time(Customer.created_at),
        _stored_time(Customer.churned_at),
        Customer.churned,
        Customer.account_type,
        Customer.email,
        _attributes_text(Customer.attributes),
        *fields,
    ).where(tenant_matches(Customer.tenant_id))
    if by_kind:
        stmt = stmt.where(Customer.kind == sa.bindparam("kind", type_=sa.String))
    if by_ids:
        stmt = stmt.where(Customer.id.in_(sa.bindparam("ids", expanding=True)))
    return stmt.order_by(Customer.id)


def _object_columns(
    names: Sequence[str], values: Sequence[Sequence[Any]], **typed: IntArray
) -> Columns:
    """Raw column values as object arrays (no type inference: a column of text stays Python
    str, as the feature code expects), and `typed` columns as they are."""
    n = len(values[0]) if values else 0
    arrays = {name: object_array(column, n) for name, column in zip(names, values, strict=True)}
    return Columns({**arrays, **typed}, length=n)


_LEAD_TYPED = [name for name in LEAD_COLUMNS if name != "config"]


@cache
def _leads_statement(by_ids: bool) -> sa.Select[*tuple[Any, ...]]:
    """load_leads' statement, built once per shape; parameters tenant and ids."""
    # The scoring configuration's name comes with the lead (a second statement per build
    # before); the join carries the tenant filter too, so another tenant's name never shows.
    stmt = (
        sa.select(
            Lead.id,
            Lead.external_id,
            _stored_time(Lead.created_at),
            _stored_time(Lead.converted_at),
            _stored_time(Lead.lost_at),
            Lead.converted,
            LeadScoringConfig.name,
            Lead.email,
            Lead.company,
            Lead.title,
            Lead.phone,
            _attributes_text(Lead.attributes),
            *[getattr(Lead, name) for name in _LEAD_TYPED],
        )
        .select_from(Lead)
        .outerjoin(
            LeadScoringConfig,
            sa.and_(
                LeadScoringConfig.id == Lead.config_id,
                tenant_matches(LeadScoringConfig.tenant_id),
            ),
        )
        .where(tenant_matches(Lead.tenant_id))
    )
    if by_ids:
        stmt = stmt.where(Lead.id.in_(sa.bindparam("ids", expanding=True)))
    return stmt.order_by(Lead.id)


def load_leads(session: Session, *, ids: IntArray | None = None) -> Entities:
    """Every lead, or only those with these database ids."""
    typed = _LEAD_TYPED
    params: dict[str, Any] = {} if ids is None else {"ids": [int(i) for i in ids]}
    cols = tenant_columns(session, _leads_statement(ids is not None), params)
    converted = to_us(list(cols[3]), fill=NO_END)
    lost = to_us(list(cols[4]), fill=NO_END)
    columns = _object_columns(
        [*typed, "config", "converted", "email", "company", "title", "phone"],
        [*cols[12:], cols[6], cols[5], cols[7], cols[8], cols[9], cols[10]],
        converted_at_us=converted,
        lost_at_us=lost,
    )
    return Entities(
        subject="lead",
        kind=None,
        ids=np.asarray(cols[0], dtype=np.int64),
        external_ids=np.asarray(cols[1], dtype=object),
        created=to_us(list(cols[2]), fill=NO_START),
        ended=np.minimum(converted, lost),
        columns=columns,
        attributes=_attribute_columns(cols[11]),
    )


def _time_expression(session: Session) -> tuple[Any, str]:
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return Event.occurred_at, "text"  # the stored 'YYYY-MM-DD HH:MM:SS.ffffff'
    if dialect == "postgresql":
        return sa.cast(sa.extract("epoch", Event.occurred_at), sa.Float), "epoch"
    return Event.occurred_at, "datetime"


def _times_to_us(values: npt.NDArray[np.object_], form: str) -> IntArray:
    if not len(values):
        return np.zeros(0, dtype=np.int64)
    if form == "epoch":
        return np.rint(values.astype(np.float64) * 1e6).astype(np.int64)
    if form == "text":
        if len(values) <= SMALL_TEXT_TIMES:
            exact = small_to_us(values.tolist(), fill=NO_START)
            if exact is not None:
                return exact
        parsed = pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601", utc=True)
        return pd.DatetimeIndex(parsed).as_unit("us").asi8.astype(np.int64)
    return to_us(list(values), fill=NO_START)


def tenant_of(session: Session) -> int:
    tenant = session.info.get(TENANT_KEY)
    if tenant is None:
        raise TenantScopeError("feature loading needs a session bound to a tenant")
    return int(tenant)


def fetch_raw(
    session: Session, stmt: sa.Select[Any], width: int, *, small: bool = False
) -> npt.NDArray[np.object_]:
    """Rows as a 2-D object array straight from the DBAPI cursor.

    For the million-row event table, SQLAlchemy's Row objects double the load time, so this
    bypasses the ORM and with it the session's automatic tenant filter: `stmt` must filter
    every tenant-owned table it reads by `tenant_of(session)` itself (see `load_events`).
    Every bound value is rendered as a literal: they are ints and validated names only.
    `small` (a build for a few ids) keeps the parameters bound instead, so SQLAlchemy's
    statement cache spares the compilation that otherwise costs more than the query; the rows
    still come raw from the DBAPI cursor."""
    connection = session.connection()
    if small:
        rows = connection.execute(stmt).cursor.fetchall()
    else:
        sql = stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
        rows = connection.exec_driver_sql(sql.string).cursor.fetchall()
    if not rows:
        return np.empty((0, width), dtype=object)
    return np.array(rows, dtype=object).reshape(len(rows), width)


def _subject_filter(entities: Entities, ids: IntArray | None) -> tuple[Any, list[Any]]:
    """The event column naming the subject, and the WHERE clauses selecting these entities."""
    if entities.subject == "lead":
        column: Any = Event.lead_id
        clauses: list[Any] = [Event.lead_id.is_not(None)]
    else:
        column = Event.customer_id
        clauses = [Event.customer_id.is_not(None)]
    if ids is not None:
        clauses.append(column.in_([int(i) for i in ids]))
    return column, clauses


def load_events(
    session: Session,
    entities: Entities,
    *,
    ids: IntArray | None = None,
    present_types: tuple[str, ...] | None = None,
) -> Events:
    """Events of `entities`, or of the entities with these database ids, in one query. A few ids
    are selected with an IN list; otherwise every event of the entity kind is read with one scan
    and matched in memory. `present_types` always describes the whole kind, so a build for one
    entity has the same columns as a build for all; a caller that knows them (cached, see
    online.py) passes them in, which spares a scan of the tenant's events."""
    tenant = tenant_of(session)
    subset = ids is not None and len(ids) <= MAX_IN_LIST
    column, clauses = _subject_filter(entities, ids if subset else None)
    time_expr, form = _time_expression(session)
    # ticket_id of ticket events, sequence_step of sent emails: one column, read by type.
    prop = sa.case(
        (Event.type.in_(TICKET_TYPES), Event.properties["ticket_id"].as_string()),
        (Event.type == "email_sent", Event.properties["sequence_step"].as_string()),
        else_=None,
    )
    stmt = sa.select(column, Event.type, time_expr, Event.value, prop).where(
        Event.tenant_id == tenant
    )
    if entities.subject == "customer" and entities.kind is not None and not subset:
        # The join alone selects customer events; adding "customer_id IS NOT NULL" would make
        # SQLite walk the (customer, time) index and fetch each row out of table order, which
        # is twice as slow as a scan in storage order.
        stmt = stmt.join(Customer, Customer.id == Event.customer_id).where(
            Customer.tenant_id == tenant, Customer.kind == entities.kind
        )
    else:
        stmt = stmt.where(*clauses)
    raw = fetch_raw(session, stmt, 5, small=ids is not None and len(ids) <= SMALL_IDS)
    codes = entities.codes_of(raw[:, 0].astype(np.int64))
    keep = codes >= 0
    if ids is not None:
        keep &= np.isin(codes, entities.codes_of(ids))
    type_codes, uniques = pd.factorize(raw[:, 1], sort=True)
    type_names = tuple(str(name) for name in uniques)
    if present_types is not None:
        present = present_types
    elif ids is not None and entities.subject == "customer":
        # Customer features exist per event type present; lead features are fixed.
        present = present_event_types(session, entities)
    else:
        present = tuple(sorted(type_names[i] for i in np.unique(type_codes[keep]).tolist()))
    # Properties are read only where they mean something: a few percent of the rows.
    tickets = np.full(len(raw), None, dtype=object)
    steps = np.full(len(raw), np.nan)
    props = raw[:, 4]
    has_prop = np.flatnonzero(pd.notna(props))
    is_ticket = np.isin(raw[has_prop, 1], TICKET_TYPES)
    tickets[has_prop[is_ticket]] = [str(v) for v in props[has_prop[is_ticket]]]
    steps[has_prop[~is_ticket]] = pd.to_numeric(
        pd.Series(props[has_prop[~is_ticket]], dtype=object), errors="coerce"
    ).to_numpy(dtype=np.float64, na_value=np.nan)
    return Events(
        code=codes[keep],
        time=_times_to_us(raw[:, 2], form)[keep],
        type_code=type_codes.astype(np.int32)[keep],
        type_names=type_names,
        value=np.array(raw[:, 3], dtype=np.float64)[keep],
        ticket=tickets[keep],
        sequence_step=steps[keep],
        present_types=present,
    )


def present_event_types(session: Session, entities: Entities) -> tuple[str, ...]:
    """Event types recorded for this kind of entity anywhere in the tenant."""
    column, clauses = _subject_filter(entities, None)
    stmt = sa.select(Event.type).where(*clauses).distinct()
    if entities.subject == "customer" and entities.kind is not None:
        stmt = stmt.join(Customer, Customer.id == column).where(Customer.kind == entities.kind)
    return tuple(sorted(str(t) for t in session.execute(stmt).scalars()))


def health_present(session: Session, entities: Entities) -> bool:
    """Whether any customer of this kind has a health snapshot."""
    stmt = sa.select(HealthSnapshot.id).limit(1)
    if entities.kind is not None:
        stmt = stmt.join(Customer, Customer.id == HealthSnapshot.customer_id).where(
            Customer.kind == entities.kind
        )
    return session.execute(stmt).first() is not None


def load_health(session: Session, entities: Entities, *, ids: IntArray | None = None) -> Health:
    """Health snapshots of `entities` (or of `ids`), in one query (raw, like the events)."""
    tenant = tenant_of(session)
    names = ("overall_score", *HEALTH_DIMENSIONS)
    stmt = sa.select(
        HealthSnapshot.customer_id,
        HealthSnapshot.snapshot_date,
        *[getattr(HealthSnapshot, n) for n in names],
    ).where(HealthSnapshot.tenant_id == tenant)
    if ids is not None and len(ids) <= MAX_IN_LIST:
        stmt = stmt.where(HealthSnapshot.customer_id.in_([int(i) for i in ids]))
    elif entities.kind is not None:
        stmt = stmt.join(Customer, Customer.id == HealthSnapshot.customer_id).where(
            Customer.tenant_id == tenant, Customer.kind == entities.kind
        )
    raw = fetch_raw(session, stmt, 2 + len(names), small=ids is not None and len(ids) <= SMALL_IDS)
    codes = entities.codes_of(raw[:, 0].astype(np.int64))
    keep = codes >= 0
    if ids is not None:
        keep &= np.isin(codes, entities.codes_of(ids))
    scores = {
        ("overall" if n == "overall_score" else n): np.array(raw[:, 2 + i], dtype=np.float64)[keep]
        for i, n in enumerate(names)
    }
    return Health(
        code=codes[keep],
        time=to_us(pd.Series(raw[:, 1], dtype=object), fill=NO_START)[keep],
        scores=scores,
    )
