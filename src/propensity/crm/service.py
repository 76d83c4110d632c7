"""Importing CRM data: one path for the CLI, the REST API and the demo's DataFrames.

validate (pure) -> resolve references in this tenant -> upsert in the caller's
transaction. Nothing is written unless every row passed, and nothing is committed here:
the caller owns the transaction, so customers and their events can be imported together
and land (or fail) as one.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict, Unpack

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.crm import attribute_types
from propensity.crm.contracts import ImportKind, spec_for, table_of
from propensity.crm.errors import ErrorList, ImportRejected
from propensity.crm.formats import SourceTable, read_path
from propensity.crm.references import config_ids, resolve_subjects
from propensity.crm.validation import ImportOptions, Prepared, validate
from propensity.crm.writer import (
    DEFAULT_CHUNK_SIZE,
    Progress,
    existing_ids,
    existing_keys,
    upsert,
)
from propensity.db import refresh_planner_statistics, utcnow
from propensity.features.history_cache import renew_history_stamp
from propensity.features.refresh import refresh_states
from propensity.models import Customer, Event, HealthSnapshot, Lead, PropertySale

__all__ = [
    "ImportKind",
    "ImportOptions",
    "ImportRejected",
    "ImportResult",
    "import_file",
    "import_frame",
    "import_table",
    "refresh_statistics",
]


@dataclass(frozen=True, kw_only=True)
class ImportResult:
    kind: ImportKind
    # Data rows read.
    total: int
    inserted: int
    # Rows that already existed and were overwritten with the new values.
    updated: int
    # Event rows repeating an earlier row of the same input exactly, stored once.
    duplicates: int = 0


class TableImport(TypedDict, total=False):
    """import_table's keyword options, which import_frame and import_file pass on."""

    options: ImportOptions | None
    chunk_size: int
    progress: Progress | None


def import_frame(
    session: Session, *, kind: ImportKind | str, frame: pd.DataFrame, **how: Unpack[TableImport]
) -> ImportResult:
    """Imports a DataFrame into the session's tenant; rows are numbered from 1 in errors."""
    return import_table(session, kind=kind, table=SourceTable.from_frame(frame), **how)


def import_file(
    session: Session, *, kind: ImportKind | str, path: Path, **how: Unpack[TableImport]
) -> ImportResult:
    """Imports a .csv, .jsonl/.ndjson or .parquet file into the session's tenant."""
    return import_table(session, kind=kind, table=read_path(path), **how)


def import_table(
    session: Session,
    *,
    kind: ImportKind | str,
    table: SourceTable,
    options: ImportOptions | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Progress | None = None,
    analyze: bool = True,
) -> ImportResult:
    """Validates everything, then writes everything; raises ImportRejected having written
    nothing if any row is bad. `analyze=False` leaves refreshing the planner's statistics to
    the caller after it commits (`refresh_statistics`): on SQLite that write would otherwise
    extend the import's hold on the database's single write lock."""
    spec = spec_for(kind)
    with _gc_paused():
        prepared = validate(spec, table, options or ImportOptions())
        if not len(prepared):
            # Nothing to write; an input without columns has no values for the writers.
            return ImportResult(kind=spec.kind, total=prepared.total, inserted=0, updated=0)
        _check_stored_types(session, spec.kind, prepared)
        # Before the first row: no reader may keep what it reads of the new rows under the
        # stamp of the old ones (features/history_cache.py).
        renew_history_stamp(session)
        written = _WRITERS[spec.kind](session, prepared, chunk_size, progress)
    # An import can change a table's size by orders of magnitude; plan with fresh numbers.
    if analyze:
        refresh_planner_statistics(session.connection())
    # The online feature state of every entity whose history changed, in this transaction:
    # the import and the states land (or fail) together.
    for subject, ids in written.touched.items():
        if ids:
            refresh_states(session, subject=subject, ids=ids)
    return ImportResult(
        kind=spec.kind,
        total=prepared.total,
        inserted=written.inserted,
        updated=written.updated,
        duplicates=prepared.duplicates,
    )


# Rows whose attributes (or properties) are sampled to learn the types the tenant's data holds.
TYPE_SAMPLE = 1000
_EXTRAS_COLUMN = {
    ImportKind.CUSTOMERS: Customer.attributes,
    ImportKind.LEADS: Lead.attributes,
    ImportKind.EVENTS: Event.properties,
}


def _check_stored_types(session: Session, kind: ImportKind, prepared: Prepared) -> None:
    """Refuses values whose type differs from the type the tenant's stored rows give that
    extra column (crm/attribute_types.py); nothing is written."""
    column = _EXTRAS_COLUMN.get(kind)
    if column is None or not prepared.extras:
        return
    keys = sorted({key for values in prepared.extras for key in values})
    if not keys:
        return
    samples = session.scalars(sa.select(column).limit(TYPE_SAMPLE)).all()
    expected = attribute_types.stored_kinds(samples, keys)
    if not expected:
        return
    errors = attribute_types.against_stored(prepared.extras, prepared.rows, expected)
    if errors:
        found = ErrorList()
        for error in errors:
            found.add(error)
        raise ImportRejected(found)


def refresh_statistics(session: Session) -> None:
    """The planner's statistics refreshed in a short transaction of their own, committed (after
    an import committed with `analyze=False`)."""
    refresh_planner_statistics(session.connection())
    session.commit()


@contextmanager
def _gc_paused() -> Iterator[None]:
    """A million-row import allocates millions of small objects that all stay alive;
    the cyclic collector would walk them again and again for nothing (~10% of the time).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _written(total: int, existing: int, **touched: set[int]) -> Written:
    return Written(inserted=total - existing, updated=existing, touched=touched)


def _present(prepared: Prepared, names: Sequence[str]) -> dict[str, list[Any]]:
    return {name: prepared.values[name] for name in names if name in prepared.values}


# --- one writer per kind -----------------------------------------------------------------

_CUSTOMER_FIELDS = [
    name for name in spec_for(ImportKind.CUSTOMERS).columns if name != "customer_id"
]
_LEAD_FIELDS = [
    name for name in spec_for(ImportKind.LEADS).columns if name not in {"lead_id", "config"}
]
_DEAL_FIELDS = [name for name in spec_for(ImportKind.DEALS).columns if name != "deal_id"]
_HEALTH_FIELDS = [
    name
    for name in spec_for(ImportKind.HEALTH).columns
    if name not in {"customer_id", "snapshot_date"}
]


@dataclass(frozen=True, kw_only=True)
class Written:
    inserted: int
    updated: int
    # Entities whose online feature state must be rebuilt, by subject ("customer", "lead").
    touched: dict[str, set[int]]


Writer = Callable[[Session, Prepared, int, Progress | None], Written]
ExtraColumns = Callable[[Session, Prepared], dict[str, list[Any]] | None]


def _entity_writer(
    model: type[Customer] | type[Lead] | type[PropertySale],
    *,
    id_column: str,
    fields: Sequence[str],
    extra_columns: ExtraColumns | None = None,
    subject: str | None = None,
) -> Writer:
    """Customers, leads and deals: keyed by external id, extras in `attributes`."""

    def write(
        session: Session, prepared: Prepared, chunk_size: int, progress: Progress | None
    ) -> Written:
        extra = extra_columns(session, prepared) if extra_columns is not None else None
        external_ids = prepared.values[id_column]
        existing = existing_keys(
            session,
            columns=[model.external_id],
            filter_column=model.external_id,
            values=external_ids,
        )
        columns: dict[str, Sequence[Any]] = {
            "external_id": external_ids,
            **_present(prepared, fields),
            **(extra or {}),
        }
        update = [name for name in columns if name != "external_id"]
        if prepared.extras is not None:
            columns["attributes"] = prepared.extras
            update.append("attributes")
        constants: dict[str, Any] = dict(prepared.defaults)
        if prepared.extras is None:
            constants["attributes"] = {}
        table = table_of(model)
        if "updated_at" in table.c:
            now = utcnow()
            constants.update(imported_at=now, updated_at=now)
            update.append("updated_at")
        upsert(
            session,
            table=table,
            columns=columns,
            conflict=("tenant_id", "external_id"),
            update=update,
            constants=constants,
            known=[(external_id,) in existing for external_id in external_ids],
            chunk_size=chunk_size,
            progress=progress,
        )
        if subject is None:
            return _written(len(prepared), len(existing))
        # New entities get their (empty) state now; the history of the others is unchanged.
        new = [key for key in dict.fromkeys(external_ids) if (key,) not in existing]
        ids = set(existing_ids(session, column=model.external_id, id_column=model.id, values=new))
        return _written(len(prepared), len(existing), **{subject: ids})

    return write


def _lead_config_ids(session: Session, prepared: Prepared) -> dict[str, list[Any]] | None:
    if "config" not in prepared.values:
        return None
    return {"config_id": config_ids(session, prepared.values["config"])}


def _write_health(
    session: Session, prepared: Prepared, chunk_size: int, progress: Progress | None
) -> Written:
    errors = ErrorList()
    customer_ids = resolve_subjects(
        session, model=Customer, column="customer_id", prepared=prepared, errors=errors
    )
    if errors:
        raise ImportRejected(errors)
    dates = prepared.values["snapshot_date"]
    stored = existing_keys(
        session,
        columns=[HealthSnapshot.customer_id, HealthSnapshot.snapshot_date],
        filter_column=HealthSnapshot.customer_id,
        values=customer_ids,
    )
    known = [(c, d) in stored for c, d in zip(customer_ids, dates, strict=True)]
    upsert(
        session,
        table=table_of(HealthSnapshot),
        columns={
            "customer_id": customer_ids,
            "snapshot_date": dates,
            **_present(prepared, _HEALTH_FIELDS),
        },
        conflict=("tenant_id", "customer_id", "snapshot_date"),
        update=[name for name in _HEALTH_FIELDS if name in prepared.values],
        known=known,
        chunk_size=chunk_size,
        progress=progress,
    )
    touched = {int(c) for c in customer_ids if c is not None}
    return _written(len(prepared), sum(known), customer=touched)


def _write_events(
    session: Session, prepared: Prepared, chunk_size: int, progress: Progress | None
) -> Written:
    errors = ErrorList()
    customer_ids = resolve_subjects(
        session, model=Customer, column="customer_id", prepared=prepared, errors=errors
    )
    lead_ids = resolve_subjects(
        session, model=Lead, column="lead_id", prepared=prepared, errors=errors
    )
    if errors:
        raise ImportRejected(errors)
    keys = prepared.event_keys
    assert keys is not None
    # With their owners: an event re-imported under another customer or lead changes both.
    stored = {
        key: (customer, lead)
        for key, customer, lead in existing_keys(
            session,
            columns=[Event.event_key, Event.customer_id, Event.lead_id],
            filter_column=Event.event_key,
            values=keys,
        )
    }
    known = [key in stored for key in keys]
    columns: dict[str, Sequence[Any]] = {
        "event_key": keys,
        "customer_id": customer_ids,
        "lead_id": lead_ids,
        "type": prepared.values["type"],
        "occurred_at": prepared.values["occurred_at"],
    }
    constants: dict[str, Any] = {}
    if "value" in prepared.values:
        columns["value"] = prepared.values["value"]
    else:
        constants["value"] = None
    if prepared.extras is not None:
        columns["properties"] = prepared.extras
    else:
        constants["properties"] = {}
    upsert(
        session,
        table=table_of(Event),
        columns=columns,
        conflict=("tenant_id", "event_key"),
        # What the input does not carry keeps its stored value.
        update=[name for name in columns if name != "event_key"],
        constants=constants,
        known=known,
        chunk_size=chunk_size,
        progress=progress,
    )
    customers = {int(c) for c in customer_ids if c is not None}
    leads = {int(i) for i in lead_ids if i is not None}
    for customer, lead in stored.values():
        if customer is not None:
            customers.add(int(customer))
        if lead is not None:
            leads.add(int(lead))
    return _written(len(prepared), len(stored), customer=customers, lead=leads)


_WRITERS: dict[ImportKind, Writer] = {
    ImportKind.CUSTOMERS: _entity_writer(
        Customer, id_column="customer_id", fields=_CUSTOMER_FIELDS, subject="customer"
    ),
    ImportKind.LEADS: _entity_writer(
        Lead,
        id_column="lead_id",
        fields=_LEAD_FIELDS,
        extra_columns=_lead_config_ids,
        subject="lead",
    ),
    ImportKind.EVENTS: _write_events,
    ImportKind.HEALTH: _write_health,
    ImportKind.DEALS: _entity_writer(PropertySale, id_column="deal_id", fields=_DEAL_FIELDS),
}
