"""The history of the entities: their events and health snapshots, up to millions of rows.

Read straight from the DBAPI cursor (`loading.fetch_raw`) with an explicit `tenant_id` filter on
every table in the statement, since that path bypasses the session's automatic scoping. Event
timestamps come in a form that converts without a Python object per row where the backend
allows (SQLite: the stored ISO text, parsed by pandas in C; PostgreSQL: epoch seconds as a
double). A few entities' rows are selected with an IN list; a whole kind's are one scan, kept
in the process while the tenant's history is unchanged (history_cache.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import tenant_execute
from propensity.features.history_cache import history_cache
from propensity.features.loading import MAX_IN_LIST, SMALL_IDS, Entities, fetch_raw, tenant_of
from propensity.features.times import small_to_us, to_us
from propensity.features.windows import NO_START, BoolArray, FloatArray, IntArray
from propensity.models import Customer, Event, HealthSnapshot

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


class _Scan:
    """Rows as read, before they are matched to an entity table. A whole-kind scan is kept by
    history_cache.py and shared by every build of the process, so its arrays are made
    read-only as it is made."""

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        raise NotImplementedError

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.arrays)

    def __post_init__(self) -> None:
        for array in self.arrays:
            array.flags.writeable = False


@dataclass(frozen=True, kw_only=True)
class _EventScan(_Scan):
    """Events as read: `entity` holds database ids."""

    entity: IntArray
    time: IntArray
    type_code: npt.NDArray[np.int32]
    type_names: tuple[str, ...]  # every type of the scan, sorted; type_code indexes them
    value: FloatArray
    ticket: npt.NDArray[np.object_]
    sequence_step: FloatArray

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.entity, self.time, self.type_code, self.value, self.ticket, self.sequence_step)


def _matched(
    entities: Entities, read: IntArray, ids: IntArray | None
) -> tuple[IntArray, BoolArray]:
    """The entity codes of a scan's database ids `read`, and which rows belong to `entities`
    (and to `ids`, when given)."""
    codes = entities.codes_of(read)
    keep = codes >= 0
    if ids is not None:
        keep &= np.isin(codes, entities.codes_of(ids))
    return codes, keep


def _scan_events(session: Session, entities: Entities, ids: IntArray | None) -> _EventScan:
    """Events of `ids` (a few: an IN list), or every event of the entities' kind."""
    tenant = tenant_of(session)
    column, clauses = _subject_filter(entities, ids)
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
    if entities.subject == "customer" and entities.kind is not None and ids is None:
        # The join alone selects customer events; adding "customer_id IS NOT NULL" would make
        # SQLite walk the (customer, time) index and fetch each row out of table order, which
        # is twice as slow as a scan in storage order.
        stmt = stmt.join(Customer, Customer.id == Event.customer_id).where(
            Customer.tenant_id == tenant, Customer.kind == entities.kind
        )
    else:
        stmt = stmt.where(*clauses)
    raw = fetch_raw(session, stmt, 5, small=ids is not None and len(ids) <= SMALL_IDS)
    type_codes, uniques = pd.factorize(raw[:, 1], sort=True)
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
    return _EventScan(
        entity=raw[:, 0].astype(np.int64),
        time=_times_to_us(raw[:, 2], form),
        type_code=type_codes.astype(np.int32),
        type_names=tuple(str(name) for name in uniques),
        value=np.array(raw[:, 3], dtype=np.float64),
        ticket=tickets,
        sequence_step=steps,
    )


def load_events(
    session: Session,
    entities: Entities,
    *,
    ids: IntArray | None = None,
    present_types: tuple[str, ...] | None = None,
) -> Events:
    """Events of `entities`, or of the entities with these database ids, in one query. A few ids
    are selected with an IN list; otherwise every event of the entity kind is read with one scan
    (kept while the history is unchanged: history_cache.py) and matched in memory. `present_types`
    always describes the whole kind, so a build for one entity has the same columns as a build
    for all; a caller that knows them (cached, see online.py) passes them in, which spares a
    scan of the tenant's events."""
    subset = ids is not None and len(ids) <= MAX_IN_LIST
    if subset:
        scan = _scan_events(session, entities, ids)
    else:
        scan = history_cache.read(
            session,
            ("events", entities.subject, entities.kind),
            lambda: _scan_events(session, entities, None),
        )
    codes, keep = _matched(entities, scan.entity, ids)
    if present_types is not None:
        present = present_types
    elif ids is not None and entities.subject == "customer":
        # Customer features exist per event type present; lead features are fixed. A whole-kind
        # scan holds every type of the kind; an IN list only its ids' types.
        present = present_event_types(session, entities) if subset else scan.type_names
    else:
        names = scan.type_names
        present = tuple(sorted(names[i] for i in np.unique(scan.type_code[keep]).tolist()))
    return Events(
        code=codes[keep],
        time=scan.time[keep],
        type_code=scan.type_code[keep],
        type_names=scan.type_names,
        value=scan.value[keep],
        ticket=scan.ticket[keep],
        sequence_step=scan.sequence_step[keep],
        present_types=present,
    )


# The distinct event types of the tenant's customers, walked as a loose index scan: one seek of
# ix_events_customer_type per type, from the smallest type past the last one found.
_CUSTOMER_TYPES = """
WITH RECURSIVE types(t) AS (
    SELECT (SELECT min(type) FROM events
            WHERE tenant_id = :tenant AND customer_id IS NOT NULL)
    UNION ALL
    SELECT (SELECT min(type) FROM events
            WHERE tenant_id = :tenant AND customer_id IS NOT NULL AND type > types.t)
    FROM types WHERE types.t IS NOT NULL
)
"""
_TYPES_OF_CUSTOMERS = sa.text(_CUSTOMER_TYPES + "SELECT t FROM types WHERE t IS NOT NULL")
# Each type kept when one of its events belongs to a customer of the kind. Such a type ends
# the search at its first event of the kind; a type no customer of the kind has reads all of
# its events (the cost a tenant with several kinds pays for the other kinds' own types). A
# scalar subquery per type, as an EXISTS became one hash join over every event on PostgreSQL.
# The unary plus keeps the customer's tenant check off SQLite's index choice: with it there,
# SQLite found each customer through the (tenant, kind) index, 3-4 times slower than by key.
_TYPES_OF_KIND = sa.text(
    _CUSTOMER_TYPES
    + """SELECT t FROM (
    SELECT t, (SELECT 1 FROM events e JOIN customers c ON c.id = e.customer_id
               WHERE e.tenant_id = :tenant AND e.customer_id IS NOT NULL AND e.type = types.t
                 AND +c.tenant_id = :tenant AND c.kind = :kind
               LIMIT 1) AS hit
    FROM types WHERE t IS NOT NULL
) found WHERE hit IS NOT NULL"""
)
_KIND_EXISTS = sa.text("SELECT 1 FROM customers WHERE tenant_id = :tenant AND kind = :kind LIMIT 1")


def present_event_types(session: Session, entities: Entities) -> tuple[str, ...]:
    """Event types recorded for this kind of customer anywhere in the tenant.

    Read as a loose index scan of the distinct types (a few dozen seeks) rather than a
    DISTINCT over every event: that read the tenant's whole event table, 16 s for 8.3 million
    events, in the first scoring of each process after every change to the history."""
    if entities.subject != "customer":
        raise ValueError("event types per kind are a customer notion: lead features are fixed")
    if entities.kind is None:
        found = tenant_execute(session, _TYPES_OF_CUSTOMERS).scalars()
    elif tenant_execute(session, _KIND_EXISTS, {"kind": entities.kind}).first() is None:
        return ()
    else:
        found = tenant_execute(session, _TYPES_OF_KIND, {"kind": entities.kind}).scalars()
    return tuple(sorted(str(t) for t in found))


def health_present(session: Session, entities: Entities) -> bool:
    """Whether any customer of this kind has a health snapshot."""
    stmt = sa.select(HealthSnapshot.id).limit(1)
    if entities.kind is not None:
        stmt = stmt.join(Customer, Customer.id == HealthSnapshot.customer_id).where(
            Customer.kind == entities.kind
        )
    return session.execute(stmt).first() is not None


@dataclass(frozen=True, kw_only=True)
class _HealthScan(_Scan):
    """Health snapshots as read: `customer` holds database ids."""

    customer: IntArray
    time: IntArray
    scores: dict[str, FloatArray]

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.customer, self.time, *self.scores.values())


def _scan_health(session: Session, entities: Entities, ids: IntArray | None) -> _HealthScan:
    """Snapshots of `ids` (an IN list), or of every customer of the entities' kind."""
    tenant = tenant_of(session)
    names = ("overall_score", *HEALTH_DIMENSIONS)
    stmt = sa.select(
        HealthSnapshot.customer_id,
        HealthSnapshot.snapshot_date,
        *[getattr(HealthSnapshot, n) for n in names],
    ).where(HealthSnapshot.tenant_id == tenant)
    if ids is not None:
        stmt = stmt.where(HealthSnapshot.customer_id.in_([int(i) for i in ids]))
    elif entities.kind is not None:
        stmt = stmt.join(Customer, Customer.id == HealthSnapshot.customer_id).where(
            Customer.tenant_id == tenant, Customer.kind == entities.kind
        )
    raw = fetch_raw(session, stmt, 2 + len(names), small=ids is not None and len(ids) <= SMALL_IDS)
    return _HealthScan(
        customer=raw[:, 0].astype(np.int64),
        time=to_us(pd.Series(raw[:, 1], dtype=object), fill=NO_START),
        scores={
            ("overall" if n == "overall_score" else n): np.array(raw[:, 2 + i], dtype=np.float64)
            for i, n in enumerate(names)
        },
    )


def load_health(session: Session, entities: Entities, *, ids: IntArray | None = None) -> Health:
    """Health snapshots of `entities` (or of `ids`), in one query (raw, like the events); a
    whole kind's are kept while the history is unchanged, as its events are."""
    if ids is not None and len(ids) <= MAX_IN_LIST:
        scan = _scan_health(session, entities, ids)
    else:
        scan = history_cache.read(
            session, ("health", entities.kind), lambda: _scan_health(session, entities, None)
        )
    codes, keep = _matched(entities, scan.customer, ids)
    return Health(
        code=codes[keep],
        time=scan.time[keep],
        scores={name: values[keep] for name, values in scan.scores.items()},
    )
