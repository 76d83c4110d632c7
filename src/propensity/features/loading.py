"""One query per table into numpy: the entities (customers of a kind, or leads).

Entities (thousands of rows, JSON attributes) go through the tenant-scoped ORM session into
numpy columns (columns.py). Their events and health snapshots are read by history.py, with
`fetch_raw` from here.
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
import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import TENANT_KEY, TenantScopeError, tenant_matches
from propensity.db_read import tenant_read
from propensity.features.columns import Columns, object_array
from propensity.features.policy import CUSTOMER_COLUMNS, LEAD_COLUMNS
from propensity.features.times import to_us
from propensity.features.windows import NO_END, NO_START, IntArray
from propensity.models import Customer, Lead, LeadScoringConfig

# Above this many requested ids, load the whole kind and filter in memory: one big IN list
# is slower than a scan and may exceed a backend's parameter limit.
MAX_IN_LIST = 2000
# Up to this many requested ids, raw queries keep their parameters bound (see fetch_raw).
SMALL_IDS = 64


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
    statement = _customers_statement(kind is not None, ids is not None)
    cols = tenant_read(session, statement, params).columns()
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
    cols = tenant_read(session, _leads_statement(ids is not None), params).columns()
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
