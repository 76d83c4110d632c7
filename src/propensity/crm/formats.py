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

from propensity.crm.errors import ErrorList, ImportRejected, RowError
from propensity.errors import InvalidInput

Format = Literal["csv", "jsonl", "parquet"]
FORMATS_BY_SUFFIX: dict[str, Format] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}


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


def read_path(path: Path) -> SourceTable:
    fmt = format_for(path.name)
    if not path.is_file():
        raise InvalidInput(f"No such file: {path}", code="FILE_NOT_FOUND")
    with path.open("rb") as stream:
        return read_stream(stream, fmt=fmt)


def read_stream(stream: IO[bytes], *, fmt: Format) -> SourceTable:
    if fmt == "csv":
        return _read_csv(stream)
    if fmt == "jsonl":
        return _read_jsonl(stream)
    return _read_parquet(stream)


def _reject(problem: str, *, row: int | None = None) -> ImportRejected:
    errors = ErrorList()
    errors.add(RowError(row, None, problem))
    return ImportRejected(errors)


def _read_csv(stream: IO[bytes]) -> SourceTable:
    start = stream.tell()
    header_line = stream.readline().decode("utf-8-sig", errors="replace")
    header = next(csv.reader([header_line]), [])
    names = [name.strip() for name in header]
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
        )
    except pd.errors.EmptyDataError:
        return SourceTable.from_frame(pd.DataFrame(), text_only=True)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise _reject(f"not a readable CSV file: {_first_line(exc)}") from exc
    frame.columns = pd.Index([str(name).strip() for name in frame.columns])
    return SourceTable.from_frame(frame, text_only=True)


def reject_constant(name: str) -> Any:
    """NaN, Infinity and -Infinity are not JSON numbers (Python's parser accepts them; stored,
    they break the database's JSON functions)."""
    raise ValueError(f"{name} is not a JSON number")


def _read_jsonl(stream: IO[bytes]) -> SourceTable:
    records: list[dict[str, Any]] = []
    rows: list[int] = []
    errors: list[RowError] = []
    for number, raw in enumerate(stream, start=1):
        line = raw.strip()
        if not line:
            continue
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
        records.append(record)
        rows.append(number)
    # Object columns keep each value's JSON type (1 stays an int, "1" a string).
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    frame = frame.astype(object) if len(frame.columns) else frame
    return SourceTable(frame=frame, rows=np.asarray(rows, dtype=np.int64), errors=errors)


def _read_parquet(stream: IO[bytes]) -> SourceTable:
    try:
        frame = pd.read_parquet(stream)
    except (OSError, ValueError) as exc:
        raise _reject(f"not a readable Parquet file: {_first_line(exc)}") from exc
    return SourceTable.from_frame(frame)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
