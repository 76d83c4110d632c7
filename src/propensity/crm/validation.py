"""Checking a whole file before anything is written: DataFrame in, typed columns or errors out.

Pure: no database, no I/O. Checks that need the database (does this customer exist in
this tenant?) happen in the service, after these.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from propensity.crm import attribute_types, coerce
from propensity.crm.contracts import (
    CUSTOMER_KINDS,
    ColumnSpec,
    ImportKind,
    KindSpec,
)
from propensity.crm.errors import MAX_REPORTED_ERRORS, ErrorList, ImportRejected, RowError
from propensity.crm.formats import SourceTable

Parser = Callable[[pd.Series], coerce.Parsed]
_PARSERS: dict[str, tuple[Parser, str]] = {
    "str": (coerce.parse_text, "not text"),
    "float": (coerce.parse_float, "not a number"),
    "int": (coerce.parse_int, "not a whole number"),
    "bool": (coerce.parse_bool, "not a boolean (use true/false, yes/no or 1/0)"),
    "datetime": (
        coerce.parse_datetime,
        "not a timestamp (use ISO 8601, e.g. 2024-05-01T12:00:00Z)",
    ),
    "date": (coerce.parse_date, "not a date (use YYYY-MM-DD)"),
}

_UNREADABLE_LABEL = (
    "not a recognisable outcome (give --positive VALUE, or use true/false, yes/no, 1/0)"
)


@dataclass(frozen=True, kw_only=True)
class ImportOptions:
    """How to read a file: column renames, the outcome column and defaults."""

    # Source column -> column name in the contract; None or "" drops the column.
    mapping: Mapping[str, str | None] = field(default_factory=dict)
    # A column holding the outcome (customers: churned, leads: converted).
    label: str | None = None
    # The label value meaning yes, compared as text, case-insensitively.
    positive: str | None = None
    # Kind of customers whose row has no `kind`.
    customer_kind: str = "subscriber"


@dataclass
class Prepared:
    """A validated file: one entry per row to write, typed and ready for the writer."""

    kind: ImportKind
    total: int
    rows: npt.NDArray[np.int64]
    values: dict[str, list[Any]]
    # Attributes or event properties per row; None when the file has no extra columns.
    extras: list[dict[str, Any]] | None = None
    event_keys: list[str] | None = None
    # Event rows that repeated an earlier row of the same file exactly (stored once).
    duplicates: int = 0
    # Values for new rows only, for columns the file does not have.
    defaults: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)


def validate(spec: KindSpec, table: SourceTable, options: ImportOptions) -> Prepared:
    errors = ErrorList()
    errors.extend(list(table.errors))
    total = len(table.frame) + len(table.errors)
    frame = _apply_mapping(table.frame, options.mapping, errors)
    frame = _apply_label(spec, frame, options, errors)
    if len(frame.columns) == 0 and len(frame) == 0:
        if errors:
            raise ImportRejected(errors)
        return Prepared(kind=spec.kind, total=total, rows=table.rows, values={})
    _check_columns(spec, frame, options, errors)
    if any(e.row is None for e in errors.errors):
        raise ImportRejected(errors)

    rows = table.rows
    values: dict[str, list[Any]] = {}
    missing: dict[str, npt.NDArray[np.bool_]] = {}
    for name in frame.columns:
        column = spec.columns.get(name)
        if options.label is not None and name == spec.label_target:
            parsed = coerce.parse_label(frame[name], positive=options.positive)
            _flag(errors, rows, parsed.bad, name, parsed.raw, _UNREADABLE_LABEL)
            values[name], missing[name] = parsed.values, parsed.missing
        elif column is not None:
            values[name], missing[name] = _parse_column(column, frame[name], rows, errors)

    defaults: dict[str, Any] = {}
    if spec.kind is ImportKind.CUSTOMERS:
        # Without a kind column the default only applies to new customers: re-importing
        # a file without kinds must not turn accounts into subscribers.
        default = options.customer_kind
        if "kind" in values:
            values["kind"] = [default if k is None else k for k in values["kind"]]
        else:
            defaults["kind"] = default
    _check_duplicates(spec, values, missing, rows, errors)
    extras = _extras(spec, frame, table.text_only, rows, errors)
    if spec.kind is ImportKind.EVENTS:
        _check_subjects(values, rows, errors)
    if errors:
        raise ImportRejected(errors)

    prepared = Prepared(
        kind=spec.kind, total=total, rows=rows, values=values, extras=extras, defaults=defaults
    )
    if spec.kind is ImportKind.EVENTS:
        _assign_event_keys(prepared)
    return prepared


def _apply_mapping(
    frame: pd.DataFrame, mapping: Mapping[str, str | None], errors: ErrorList
) -> pd.DataFrame:
    if not mapping:
        return frame
    renames: dict[str, str] = {}
    dropped: list[str] = []
    for source, target in mapping.items():
        if source not in frame.columns:
            errors.add(RowError(None, source, "the mapping names this column; the data has none"))
        elif target is None or not target.strip():
            dropped.append(source)
        else:
            renames[source] = target.strip()
    result = frame.drop(columns=dropped).rename(columns=renames)
    names = list(result.columns)
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.add(RowError(None, name, "after mapping, two columns have this name"))
    return result


def _apply_label(
    spec: KindSpec, frame: pd.DataFrame, options: ImportOptions, errors: ErrorList
) -> pd.DataFrame:
    if options.label is None:
        if options.positive is not None:
            errors.add(RowError(None, None, "a positive value needs a label column (--label)"))
        return frame
    target = spec.label_target
    if target is None:
        errors.add(RowError(None, options.label, f"{spec.kind} have no outcome label"))
        return frame
    if options.label not in frame.columns:
        errors.add(RowError(None, options.label, "label column not found in the data"))
        return frame
    if options.label != target and target in frame.columns:
        errors.add(RowError(None, target, f"the data has both '{target}' and a label column"))
        return frame
    return frame.rename(columns={options.label: target})


def _check_columns(
    spec: KindSpec, frame: pd.DataFrame, options: ImportOptions, errors: ErrorList
) -> None:
    present = set(frame.columns)
    for column in spec.columns.values():
        if column.required and column.name not in present:
            errors.add(RowError(None, column.name, "required column is missing"))
    if spec.kind is ImportKind.EVENTS and not present & {"customer_id", "lead_id"}:
        errors.add(RowError(None, "customer_id", "events need a customer_id or lead_id column"))
    if spec.kind is ImportKind.CUSTOMERS and options.customer_kind not in CUSTOMER_KINDS:
        errors.add(
            RowError(None, "kind", f"default kind must be one of {', '.join(CUSTOMER_KINDS)}")
        )
    if spec.extras is None:
        for name in sorted(present - set(spec.columns)):
            errors.add(
                RowError(
                    None,
                    name,
                    f"unknown column; {spec.kind} keep no other columns "
                    "(map it to a known column, or drop it with a mapping to nothing)",
                )
            )


def _parse_column(
    column: ColumnSpec, series: pd.Series, rows: npt.NDArray[np.int64], errors: ErrorList
) -> tuple[list[Any], npt.NDArray[np.bool_]]:
    parser, problem = _PARSERS[column.type]
    parsed = parser(series)
    name = column.name
    _flag(errors, rows, parsed.bad, name, parsed.raw, problem)
    values = parsed.values
    if column.required:
        _flag(errors, rows, parsed.missing, name, None, "required value is missing")
    if column.choices is not None:
        values = [_normalise_choice(v, column.choices) for v in values]
        wrong = np.array([v is not None and v not in column.choices for v in values], dtype=bool)
        _flag(errors, rows, wrong, name, parsed.raw, f"must be one of {', '.join(column.choices)}")
    if column.max_length is not None and column.type == "str":
        too_long = ~parsed.missing & (parsed.raw.str.len() > column.max_length).to_numpy(
            dtype=bool, na_value=False
        )
        _flag(errors, rows, too_long, name, None, f"longer than {column.max_length} characters")
    if column.minimum is not None or column.maximum is not None:
        numbers = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
        low = -np.inf if column.minimum is None else column.minimum
        high = np.inf if column.maximum is None else column.maximum
        outside = ~np.isnan(numbers) & ((numbers < low) | (numbers > high))
        problem = (
            "must not be negative"
            if column.maximum is None and low == 0
            else f"must be between {low:g} and {high:g}"
        )
        _flag(errors, rows, outside, name, parsed.raw, problem)
    return values, parsed.missing | parsed.bad


def _normalise_choice(value: str | None, choices: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    return value.upper() if choices[0].isupper() else value.lower()


def _flag(
    errors: ErrorList,
    rows: npt.NDArray[np.int64],
    mask: npt.NDArray[np.bool_],
    column: str | None,
    raw: pd.Series | None,
    problem: str,
) -> None:
    """Reports every row in `mask`; builds messages for the first few only."""
    count = int(mask.sum())
    if count == 0:
        return
    positions = np.flatnonzero(mask)[:MAX_REPORTED_ERRORS]
    found: list[RowError] = []
    for position in positions:
        text = problem
        if raw is not None:
            text = f"{problem}: {_shown(raw.iloc[int(position)])}"
        found.append(RowError(int(rows[position]), column, text))
    errors.extend(found, total=count)


def _shown(value: Any) -> str:
    text = repr(str(value)) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


def _check_duplicates(
    spec: KindSpec,
    values: dict[str, list[Any]],
    missing: dict[str, npt.NDArray[np.bool_]],
    rows: npt.NDArray[np.int64],
    errors: ErrorList,
) -> None:
    key = [name for name in spec.key if name in values]
    if len(key) != len(spec.key) or not rows.size:
        return
    complete = ~np.logical_or.reduce([missing[name] for name in key])
    keys = pd.DataFrame({name: values[name] for name in key})[complete]
    repeated = keys.duplicated(keep="first").to_numpy(dtype=bool)
    if not repeated.any():
        return
    first_rows = rows[complete]
    tuples = list(keys.itertuples(index=False, name=None))
    first_seen: dict[tuple[Any, ...], int] = {}
    for value, row in zip(tuples, first_rows.tolist(), strict=True):
        first_seen.setdefault(value, row)
    label = key[0] if len(key) == 1 else "(" + ", ".join(key) + ")"
    found = []
    for position in np.flatnonzero(repeated)[:MAX_REPORTED_ERRORS]:
        value = tuples[position]
        shown = repr(value[0]) if len(value) == 1 else ", ".join(str(v) for v in value)
        found.append(
            RowError(
                int(first_rows[position]),
                key[0],
                f"duplicate {label} {shown} (first on row {first_seen[value]})",
            )
        )
    errors.extend(found, total=int(repeated.sum()))


def _check_subjects(
    values: dict[str, list[Any]], rows: npt.NDArray[np.int64], errors: ErrorList
) -> None:
    none = [None] * len(rows)
    customers = np.array([v is not None for v in values.get("customer_id", none)], dtype=bool)
    leads = np.array([v is not None for v in values.get("lead_id", none)], dtype=bool)
    _flag(errors, rows, ~customers & ~leads, "customer_id", None, "needs a customer_id or lead_id")
    _flag(
        errors,
        rows,
        customers & leads,
        "lead_id",
        None,
        "has both customer_id and lead_id; an event belongs to one of them",
    )


NOT_FINITE = "contains NaN or Infinity, which is not a JSON number; send null or a number"


def _extras(
    spec: KindSpec,
    frame: pd.DataFrame,
    infer: bool,
    rows: npt.NDArray[np.int64],
    errors: ErrorList,
) -> list[dict[str, Any]] | None:
    if spec.extras is None:
        return None
    known = set(spec.columns) | ({spec.label_target} if spec.label_target else set())
    names = [n for n in frame.columns if n not in known and n != spec.extras]
    nested = frame[spec.extras] if spec.extras in frame.columns else None
    if not names and nested is None:
        return None
    for name in names:
        # Before typing the column: one bad cell would make the whole column text.
        raw = frame[name]
        present = ~coerce.missing_cells(raw)
        for position, expected in attribute_types.file_outliers(raw, present):
            problem = attribute_types.mismatch(expected, raw.iloc[position], "its other rows")
            errors.add(RowError(int(rows[position]), str(name), problem))
    columns = [coerce.attribute_values(frame[name], infer=infer) for name in names]
    base: list[dict[str, Any]] = [{} for _ in range(len(frame))]
    if nested is not None:
        for position, cell in enumerate(nested.to_numpy(dtype=object)):
            try:
                base[position] = coerce.json_object(cell) or {}
            except ValueError as exc:
                errors.add(RowError(int(rows[position]), spec.extras, str(exc)))
                continue
            if not coerce.finite_json(base[position]):
                errors.add(RowError(int(rows[position]), spec.extras, NOT_FINITE))
    # Column by column over the filled cells only: event properties are sparse (a
    # ticket id on one event type in five), and a million rows go by quickly this way.
    for name, cells in zip(names, columns, strict=True):
        key = str(name)
        filled = np.flatnonzero(np.array([v is not None for v in cells], dtype=bool))
        for position in filled.tolist():
            cell = cells[position]
            if isinstance(cell, dict | list) and not coerce.finite_json(cell):
                errors.add(RowError(int(rows[position]), key, NOT_FINITE))
            base[position][key] = cell
    return base


def _assign_event_keys(prepared: Prepared) -> None:
    """Each event's id, or a digest of its content, so a re-import finds the same row.

    Rows without an id that repeat an earlier row exactly are the same event: the
    later copies are dropped and counted as duplicates.
    """
    n = len(prepared)
    values = prepared.values
    none = [None] * n
    ids = values.get("event_id", none)
    customers = values.get("customer_id", none)
    leads = values.get("lead_id", none)
    types = values["type"]
    times = values["occurred_at"]
    amounts = values.get("value", none)
    extras = prepared.extras or [{}] * n
    keys: list[str] = []
    for i in range(n):
        if ids[i] is not None:
            keys.append(ids[i])
            continue
        subject = f"c:{customers[i]}" if customers[i] is not None else f"l:{leads[i]}"
        content = "\x1f".join(
            (
                subject,
                types[i],
                times[i].isoformat(),
                repr(amounts[i]),
                json.dumps(extras[i], sort_keys=True, separators=(",", ":"), default=str),
            )
        )
        keys.append("#" + hashlib.blake2b(content.encode(), digest_size=20).hexdigest())
    keep = ~pd.Series(keys).duplicated(keep="first").to_numpy(dtype=bool)
    prepared.duplicates = int((~keep).sum())
    if prepared.duplicates:
        positions = np.flatnonzero(keep)
        prepared.rows = prepared.rows[keep]
        prepared.values = {k: [v[i] for i in positions] for k, v in values.items()}
        if prepared.extras is not None:
            prepared.extras = [prepared.extras[i] for i in positions]
        keys = [keys[i] for i in positions]
    prepared.event_keys = keys
