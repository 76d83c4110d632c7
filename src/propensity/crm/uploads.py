"""Imports that arrive over HTTP (the REST API's and the dashboard's): their size limits,
and the import as a unit of work of its own, either checked and rolled back or committed.

Checking runs the very import that would be committed (same validation, same reference
lookups, same writer) inside a transaction it then rolls back: the counts it reports are
the counts the import will have, and rows that need the database (an event naming an
unknown customer) are found before anything is kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from propensity.crm.contracts import ImportKind
from propensity.crm.errors import TooManyRows
from propensity.crm.formats import Bounds, SourceTable, too_many_columns
from propensity.crm.formats import too_many_rows as _too_many_rows
from propensity.crm.service import ImportResult, import_table, refresh_statistics
from propensity.crm.validation import ImportOptions

# Larger inputs belong to `propensity import`, which streams them in chunks.
MAX_ROWS = 50_000
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
# What a file that came over HTTP may hold, checked before it is read into memory.
UPLOAD_BOUNDS = Bounds(max_rows=MAX_ROWS, max_decompressed_bytes=1024 * 1024 * 1024)


def too_many_rows(rows: int) -> TooManyRows:
    return _too_many_rows(rows, MAX_ROWS)


def check_columns(rows: Sequence[Mapping[str, object]]) -> None:
    """JSON rows whose distinct keys are more than a file may have: refused before a frame
    (as wide as all their keys together) is built."""
    keys: set[str] = set()
    for row in rows:
        keys.update(row)
        if len(keys) > UPLOAD_BOUNDS.max_columns:
            raise too_many_columns(len(keys), UPLOAD_BOUNDS.max_columns)


def too_large(size: int) -> TooManyRows:
    return TooManyRows(
        f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: "
        "use `propensity import` for large files",
        details={"bytes": size, "maxBytes": MAX_UPLOAD_BYTES},
    )


def rows_in(table: SourceTable) -> int:
    """Data rows of a file, counting lines that could not be read at all."""
    return len(table.frame) + len(table.errors)


def check_import(
    session: Session, *, kind: ImportKind | str, table: SourceTable, options: ImportOptions
) -> ImportResult:
    """What importing `table` would do, with nothing kept: the counts, or ImportRejected
    listing every bad row. The session's open transaction is rolled back either way."""
    if rows_in(table) > MAX_ROWS:
        raise too_many_rows(rows_in(table))
    try:
        return import_table(session, kind=kind, table=table, options=options)
    finally:
        session.rollback()


def commit_import(
    session: Session, *, kind: ImportKind | str, table: SourceTable, options: ImportOptions
) -> ImportResult:
    """Imports `table` and commits: every row or, when any row is bad, none (ImportRejected,
    rolled back)."""
    if rows_in(table) > MAX_ROWS:
        raise too_many_rows(rows_in(table))
    try:
        result = import_table(session, kind=kind, table=table, options=options, analyze=False)
    except BaseException:
        session.rollback()
        raise
    session.commit()
    refresh_statistics(session)
    return result
