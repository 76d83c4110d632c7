"""Reading CSV, JSON Lines and Parquet files into a DataFrame with the file's row numbers."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow.parquet as pq

from propensity.crm.errors import ErrorList, ImportRejected, RowError, TooManyRows
from propensity.errors import InvalidInput

Format = Literal["csv", "jsonl", "parquet"]
FORMATS_BY_SUFFIX: dict[str, Format] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}


# Columns a file may have (an import maps them onto a few dozen; thousands of distinct keys
# would make a huge sparse frame), and what a Parquet file may decompress to.
MAX_COLUMNS = 1_000
MAX_DECOMPRESSED_BYTES = 2 * 1024 * 1024 * 1024


@dataclass(frozen=True)
class Bounds:
    """What a reader refuses before it builds anything: more rows than `max_rows` (None: any),
    more distinct columns than `max_columns`, a Parquet file that decompresses to more than
    `max_decompressed_bytes`."""

    max_rows: int | None = None
    max_columns: int = MAX_COLUMNS
    max_decompressed_bytes: int = MAX_DECOMPRESSED_BYTES


def too_many_rows(rows: int | str, limit: int) -> TooManyRows:
    return TooManyRows(
        f"{rows if isinstance(rows, str) else format(rows, ',')} rows is more than the "
        f"{limit:,} a request may carry: split the data, or use `propensity import` for large "
        "files",
        details={"rows": rows, "maxRows": limit},
    )


def too_many_columns(columns: int, limit: int) -> TooManyRows:
    return TooManyRows(
        f"The data has {columns:,} distinct columns, more than the {limit:,} an import takes",
        details={"columns": columns, "maxColumns": limit},
    )


@dataclass
class SourceTable:
    """A file's rows as a DataFrame, with the number by which the file's author finds each."""

    frame: pd.DataFrame
    rows: npt.NDArray[np.int64]
    # CSV carries no types: every value is text and attribute types are inferred.
    text_only: bool = False
    # Lines that could not be read at all (JSON Lines); reported with the other errors.
    errors: list[RowError] = field(default_factory=list)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, text_only: bool = False) -> SourceTable:
        frame = frame.reset_index(drop=True)
        return cls(
            frame=frame, rows=np.arange(1, len(frame) + 1, dtype=np.int64), text_only=text_only
        )


def format_for(name: str) -> Format:
    suffix = Path(name).suffix.lower()
    fmt = FORMATS_BY_SUFFIX.get(suffix)
    if fmt is None:
        known = ", ".join(sorted(FORMATS_BY_SUFFIX))
        raise InvalidInput(
            f"Cannot tell the format of '{name}': the file name must end in one of {known}",
            code="UNSUPPORTED_FORMAT",
        )
    return fmt


def read_path(path: Path, *, bounds: Bounds | None = None) -> SourceTable:
    fmt = format_for(path.name)
    if not path.is_file():
        raise InvalidInput(f"No such file: {path}", code="FILE_NOT_FOUND")
    with path.open("rb") as stream:
        return read_stream(stream, fmt=fmt, bounds=bounds)


def read_stream(stream: IO[bytes], *, fmt: Format, bounds: Bounds | None = None) -> SourceTable:
    bounds = bounds or Bounds()
    if fmt == "csv":
        return _read_csv(stream, bounds)
    if fmt == "jsonl":
        return _read_jsonl(stream, bounds)
    return _read_parquet(stream, bounds)


def _reject(problem: str, *, row: int | None = None) -> ImportRejected:
    errors = ErrorList()
    errors.add(RowError(row, None, problem))
    return ImportRejected(errors)


def _read_csv(stream: IO[bytes], bounds: Bounds) -> SourceTable:
    start = stream.tell()
    header_line = stream.readline().decode("utf-8-sig", errors="replace")
    header = next(csv.reader([header_line]), [])
    names = [name.strip() for name in header]
    if len(names) > bounds.max_columns:
        raise too_many_columns(len(names), bounds.max_columns)
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise _reject(f"the header names these columns more than once: {', '.join(duplicated)}")
    stream.seek(start)
    try:
        frame = pd.read_csv(
            stream,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding="utf-8-sig",
            skipinitialspace=False,
            # One row past the limit says "too many" without reading the rest.
            nrows=None if bounds.max_rows is None else bounds.max_rows + 1,
        )
    except pd.errors.EmptyDataError:
        return SourceTable.from_frame(pd.DataFrame(), text_only=True)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise _reject(f"not a readable CSV file: {_first_line(exc)}") from exc
    if bounds.max_rows is not None and len(frame) > bounds.max_rows:
        raise too_many_rows(f"more than {bounds.max_rows:,}", bounds.max_rows)
    frame.columns = pd.Index([str(name).strip() for name in frame.columns])
    return SourceTable.from_frame(frame, text_only=True)


def reject_constant(name: str) -> Any:
    """NaN, Infinity and -Infinity are not JSON numbers (Python's parser accepts them; stored,
    they break the database's JSON functions)."""
    raise ValueError(f"{name} is not a JSON number")


def _read_jsonl(stream: IO[bytes], bounds: Bounds) -> SourceTable:
    records: list[dict[str, Any]] = []
    rows: list[int] = []
    errors: list[RowError] = []
    keys: set[str] = set()
    for number, raw in enumerate(stream, start=1):
        line = raw.strip()
        if not line:
            continue
        if bounds.max_rows is not None and len(records) + len(errors) >= bounds.max_rows:
            raise too_many_rows(f"more than {bounds.max_rows:,}", bounds.max_rows)
        try:
            record = json.loads(line, parse_constant=reject_constant)
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
            errors.append(RowError(number, None, f"not valid JSON: {_first_line(exc)}"))
            continue
        except RecursionError:
            errors.append(RowError(number, None, "not valid JSON: nested too deeply"))
            continue
        if not isinstance(record, dict):
            errors.append(RowError(number, None, "each line must be one JSON object"))
            continue
        keys.update(record)
        if len(keys) > bounds.max_columns:
            raise too_many_columns(len(keys), bounds.max_columns)
        records.append(record)
        rows.append(number)
    # Object columns keep each value's JSON type (1 stays an int, "1" a string).
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    frame = frame.astype(object) if len(frame.columns) else frame
    return SourceTable(frame=frame, rows=np.asarray(rows, dtype=np.int64), errors=errors)


def _read_parquet(stream: IO[bytes], bounds: Bounds) -> SourceTable:
    # The footer says how big the data is once decompressed: a few kilobytes of Parquet can
    # hold gigabytes of repeated values.
    try:
        meta = pq.ParquetFile(stream).metadata
    except (OSError, ValueError) as exc:
        raise _reject(f"not a readable Parquet file: {_first_line(exc)}") from exc
    if meta.num_columns > bounds.max_columns:
        raise too_many_columns(meta.num_columns, bounds.max_columns)
    if bounds.max_rows is not None and meta.num_rows > bounds.max_rows:
        raise too_many_rows(meta.num_rows, bounds.max_rows)
    decompressed = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if decompressed > bounds.max_decompressed_bytes:
        raise TooManyRows(
            f"The Parquet file decompresses to {decompressed / 1024**3:.1f} GB, more than the "
            f"{bounds.max_decompressed_bytes / 1024**3:.1f} GB an import takes",
            details={"bytes": decompressed, "maxBytes": bounds.max_decompressed_bytes},
        )
    stream.seek(0)
    try:
        frame = pd.read_parquet(stream)
    except (OSError, ValueError) as exc:
        raise _reject(f"not a readable Parquet file: {_first_line(exc)}") from exc
    return SourceTable.from_frame(frame)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
