"""Bulk import over REST: the CLI's import (same checks, same writer) for JSON rows or a file.

Atomic: a request either imports every row or, if any row is bad, nothing (400 with the
list of bad rows). Large files belong to the CLI; a request carries at most MAX_ROWS rows.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, Field

from propensity.crm.contracts import ImportKind
from propensity.crm.formats import SourceTable, format_for, read_stream
from propensity.crm.service import ImportResult, import_table, refresh_statistics
from propensity.crm.uploads import (
    MAX_ROWS,
    MAX_UPLOAD_BYTES,
    UPLOAD_BOUNDS,
    check_columns,
    too_large,
    too_many_rows,
)
from propensity.crm.validation import ImportOptions
from propensity.deps import Analyst, TenantSession
from propensity.errors import InvalidInput

__all__ = ["MAX_ROWS", "MAX_UPLOAD_BYTES", "router"]

router = APIRouter(prefix="/import", tags=["import"])

_ROW_NUMBERS = (
    "Errors name rows from 1: the position in `rows`, or the data row (line, for JSON "
    "Lines) of an uploaded file."
)


class ImportRequest(BaseModel):
    rows: list[dict[str, Any]] = Field(
        description=(
            f"The rows, one object each, in the column contract of the kind (at most "
            f"{MAX_ROWS:,}). Unknown columns become attributes (customers, leads, deals) or "
            "event properties; nested `attributes`/`properties` objects are merged in."
        ),
    )
    mapping: dict[str, str | None] = Field(
        default_factory=dict,
        description="Renames: source column -> contract column; null drops the column",
    )
    label: str | None = Field(
        default=None,
        description="Column holding the outcome (customers: churned, leads: converted)",
    )
    positive: str | None = Field(
        default=None,
        description="Label value meaning yes (any case); without it true/false, yes/no, 1/0",
    )
    kind: Literal["account", "subscriber"] = Field(
        default="subscriber", description="Customers only: kind of new rows without a `kind`"
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "rows": [
                        {"customer_id": "c-1", "plan": "pro", "churn": "No", "seats": 12},
                        {"customer_id": "c-2", "plan": "basic", "churn": "Yes", "seats": 3},
                    ],
                    "label": "churn",
                    "positive": "Yes",
                    "kind": "subscriber",
                }
            ]
        }
    }


class ImportCounts(BaseModel):
    kind: ImportKind
    total: int = Field(description="Rows received")
    inserted: int = Field(description="Rows that did not exist before")
    updated: int = Field(description="Rows that existed and now hold the new values")
    duplicates: int = Field(
        description="Events repeating an earlier row of the same request exactly, stored once"
    )

    @classmethod
    def of(cls, result: ImportResult) -> ImportCounts:
        return cls(
            kind=result.kind,
            total=result.total,
            inserted=result.inserted,
            updated=result.updated,
            duplicates=result.duplicates,
        )


@router.post(
    "/{kind}",
    response_model=ImportCounts,
    summary="Upsert rows of customers, leads, events, health snapshots or deals",
    description=(
        "Validates every row first; if any is bad nothing is written and the response is "
        "400 INVALID_ROWS with `details.errors` [{row, column, problem}]. Rows are upserted "
        "by their external id, so sending the same rows twice changes nothing. " + _ROW_NUMBERS
    ),
    responses={400: {"description": "Bad rows"}, 413: {"description": "Too many rows"}},
)
def import_rows(
    kind: ImportKind, body: ImportRequest, _principal: Analyst, session: TenantSession
) -> ImportCounts:
    if len(body.rows) > MAX_ROWS:
        raise too_many_rows(len(body.rows))
    check_columns(body.rows)
    # Object columns keep each JSON value's own type, as a JSON Lines file would.
    frame = pd.DataFrame.from_records(body.rows) if body.rows else pd.DataFrame()
    table = SourceTable.from_frame(frame.astype(object) if len(frame.columns) else frame)
    options = ImportOptions(
        mapping=body.mapping, label=body.label, positive=body.positive, customer_kind=body.kind
    )
    result = import_table(session, kind=kind, table=table, options=options, analyze=False)
    session.commit()
    refresh_statistics(session)
    return ImportCounts.of(result)


@router.post(
    "/{kind}/file",
    response_model=ImportCounts,
    summary="Upload a CSV, JSON Lines or Parquet file to import",
    description=(
        "The same import as the JSON endpoint, for a file named *.csv, *.jsonl, *.ndjson or "
        "*.parquet (multipart/form-data). " + _ROW_NUMBERS
    ),
    responses={400: {"description": "Bad rows"}, 413: {"description": "Too large"}},
)
def import_file_upload(
    kind: ImportKind,
    file: Annotated[UploadFile, File(description="The data file")],
    _principal: Analyst,
    session: TenantSession,
    mapping: Annotated[
        str | None, Form(description='JSON object of renames, e.g. {"Churn": "churn"}')
    ] = None,
    label: Annotated[str | None, Form(description="Column holding the outcome")] = None,
    positive: Annotated[str | None, Form(description="Label value meaning yes")] = None,
    customer_kind: Annotated[
        Literal["account", "subscriber"], Form(description="Customers: kind of new rows")
    ] = "subscriber",
) -> ImportCounts:
    if file.size is not None and file.size > MAX_UPLOAD_BYTES:
        raise too_large(file.size)
    table = read_stream(file.file, fmt=format_for(file.filename or ""), bounds=UPLOAD_BOUNDS)
    if len(table.frame) > MAX_ROWS:
        raise too_many_rows(len(table.frame))
    options = ImportOptions(
        mapping=_mapping_field(mapping),
        label=label,
        positive=positive,
        customer_kind=customer_kind,
    )
    result = import_table(session, kind=kind, table=table, options=options, analyze=False)
    session.commit()
    refresh_statistics(session)
    return ImportCounts.of(result)


def _mapping_field(text: str | None) -> dict[str, str | None]:
    if not text:
        return {}
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput("mapping must be a JSON object of column names") from exc
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in mapping.items()
    ):
        raise InvalidInput("mapping must be a JSON object of column names")
    return mapping
