"""Files uploaded for an import, held in the tenant's home between the steps of a review
(preview and mapping, validation, import) so a page never carries the data in a cookie or
a hidden field.

An upload is a folder `<home>/uploads/<tenant id>/<upload id>/` with the file as it came
and `meta.json`: what it is, a preview computed once when it arrived (columns, the first
rows, how many cells of each column are filled) and, once checked, the options it was
checked with. The tenant id in the path is the caller's own, so another tenant's upload id
finds nothing. Uploads older than a day are swept when the tenant uploads again.

Several API replicas need the home on a shared volume for an upload to survive a request
landing on another replica.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd

from propensity.crm import coerce
from propensity.crm.contracts import ImportKind
from propensity.crm.formats import Format, SourceTable, format_for, read_path
from propensity.crm.uploads import (
    MAX_ROWS,
    MAX_UPLOAD_BYTES,
    UPLOAD_BOUNDS,
    rows_in,
    too_large,
    too_many_rows,
)
from propensity.crm.validation import ImportOptions
from propensity.db import utcnow
from propensity.errors import InvalidInput, NotFound

PREVIEW_ROWS = 10
PREVIEW_CHARS = 80
MAX_AGE_SECONDS = 24 * 3600
_ID = re.compile(r"^[0-9a-f]{32}$")
_META = "meta.json"
_COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class StagedUpload:
    id: str
    kind: ImportKind
    filename: str
    format: Format
    size: int
    uploaded_at: datetime
    user_id: int | None
    rows: int
    columns: list[str]
    # The first PREVIEW_ROWS rows, each cell as text (cut at PREVIEW_CHARS).
    sample: list[list[str]]
    # Per column, how many rows hold a value.
    filled: list[int]
    # The options of the last check; None until the upload has been checked.
    options: ImportOptions | None = None
    unreadable_lines: int = field(default=0)

    @property
    def checked(self) -> bool:
        return self.options is not None


def _tenant_dir(home: Path, tenant_id: int) -> Path:
    return home / "uploads" / str(int(tenant_id))


def _upload_dir(home: Path, tenant_id: int, upload_id: str) -> Path:
    if not _ID.match(upload_id):
        raise _not_found()
    return _tenant_dir(home, tenant_id) / upload_id


def _not_found() -> NotFound:
    return NotFound(
        "This upload is not here any more (imported, discarded or older than a day): "
        "upload the file again",
        code="UPLOAD_NOT_FOUND",
    )


def stage_upload(
    home: Path,
    *,
    tenant_id: int,
    kind: ImportKind | str,
    filename: str,
    stream: IO[bytes],
    user_id: int | None,
) -> StagedUpload:
    """Keeps the file and its preview. Refuses (having kept nothing) a name that is not
    .csv/.jsonl/.ndjson/.parquet, a file without data rows or over MAX_UPLOAD_BYTES or
    MAX_ROWS rows, and a file that cannot be read at all (ImportRejected naming the
    problem)."""
    import_kind = ImportKind(kind)
    fmt = format_for(filename)
    sweep_uploads(home, tenant_id=tenant_id)
    upload_id = secrets.token_hex(16)
    folder = _upload_dir(home, tenant_id, upload_id)
    folder.mkdir(parents=True)
    try:
        path = folder / f"data{Path(filename).suffix.lower()}"
        size = _copy_limited(stream, path)
        table = read_path(path, bounds=UPLOAD_BOUNDS)
        if rows_in(table) == 0:
            raise InvalidInput(
                f"{Path(filename).name} holds no data rows: nothing to import",
                code="EMPTY_FILE",
            )
        if rows_in(table) > MAX_ROWS:
            raise too_many_rows(rows_in(table))
        upload = StagedUpload(
            id=upload_id,
            kind=import_kind,
            filename=Path(filename).name[:200],
            format=fmt,
            size=size,
            uploaded_at=utcnow(),
            user_id=user_id,
            rows=rows_in(table),
            columns=[str(c) for c in table.frame.columns],
            sample=_sample(table.frame),
            filled=_filled(table.frame),
            unreadable_lines=len(table.errors),
        )
        _write_meta(folder, upload)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return upload


def _copy_limited(stream: IO[bytes], path: Path) -> int:
    size = 0
    with path.open("wb") as out:
        while chunk := stream.read(_COPY_CHUNK):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise too_large(size)
            out.write(chunk)
    return size


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def _sample(frame: pd.DataFrame) -> list[list[str]]:
    head = frame.head(PREVIEW_ROWS).to_numpy(dtype=object)
    return [[_cell(v) for v in row] for row in head]


def _filled(frame: pd.DataFrame) -> list[int]:
    counts = []
    for name in frame.columns:
        _text, missing = coerce.text_of(frame[name])
        counts.append(int((~missing).sum()))
    return counts


def load_upload(home: Path, *, tenant_id: int, upload_id: str) -> StagedUpload:
    folder = _upload_dir(home, tenant_id, upload_id)
    try:
        raw = json.loads((folder / _META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise _not_found() from None
    return _from_meta(raw)


def read_upload(home: Path, *, tenant_id: int, upload_id: str) -> SourceTable:
    """The file's rows, read as the import API reads an uploaded file."""
    upload = load_upload(home, tenant_id=tenant_id, upload_id=upload_id)
    folder = _upload_dir(home, tenant_id, upload_id)
    path = folder / f"data{Path(upload.filename).suffix.lower()}"
    if not path.is_file():
        raise _not_found()
    return read_path(path, bounds=UPLOAD_BOUNDS)


def remember_options(
    home: Path, *, tenant_id: int, upload_id: str, options: ImportOptions
) -> StagedUpload:
    """Records the options the upload was checked with: importing it uses exactly these."""
    upload = replace(load_upload(home, tenant_id=tenant_id, upload_id=upload_id), options=options)
    _write_meta(_upload_dir(home, tenant_id, upload_id), upload)
    return upload


def list_uploads(home: Path, *, tenant_id: int) -> list[StagedUpload]:
    """The tenant's uploads waiting to be imported, newest first."""
    folder = _tenant_dir(home, tenant_id)
    found = []
    for child in folder.iterdir() if folder.is_dir() else ():
        if _ID.match(child.name):
            try:
                found.append(load_upload(home, tenant_id=tenant_id, upload_id=child.name))
            except NotFound:
                continue
    return sorted(found, key=lambda u: u.uploaded_at, reverse=True)


def discard_upload(home: Path, *, tenant_id: int, upload_id: str) -> None:
    shutil.rmtree(_upload_dir(home, tenant_id, upload_id), ignore_errors=True)


def sweep_uploads(home: Path, *, tenant_id: int, max_age_seconds: float = MAX_AGE_SECONDS) -> int:
    """Removes the tenant's uploads older than `max_age_seconds`; returns how many."""
    folder = _tenant_dir(home, tenant_id)
    if not folder.is_dir():
        return 0
    cutoff = time.time() - max_age_seconds
    removed = 0
    for child in folder.iterdir():
        if _ID.match(child.name) and child.stat().st_mtime < cutoff:
            shutil.rmtree(child, ignore_errors=True)
            removed += 1
    return removed


def _write_meta(folder: Path, upload: StagedUpload) -> None:
    raw = asdict(upload)
    raw["kind"] = upload.kind.value
    raw["uploaded_at"] = upload.uploaded_at.isoformat()
    raw["options"] = None if upload.options is None else _options_json(upload.options)
    temporary = folder / f"{_META}.tmp"
    temporary.write_text(json.dumps(raw), encoding="utf-8")
    # Atomic: a page reading the meta never sees half of it.
    temporary.replace(folder / _META)


def _options_json(options: ImportOptions) -> dict[str, Any]:
    return {
        "mapping": dict(options.mapping),
        "label": options.label,
        "positive": options.positive,
        "customer_kind": options.customer_kind,
    }


def _from_meta(raw: dict[str, Any]) -> StagedUpload:
    options = raw.get("options")
    return StagedUpload(
        id=raw["id"],
        kind=ImportKind(raw["kind"]),
        filename=raw["filename"],
        format=raw["format"],
        size=int(raw["size"]),
        uploaded_at=datetime.fromisoformat(raw["uploaded_at"]),
        user_id=raw.get("user_id"),
        rows=int(raw["rows"]),
        columns=list(raw["columns"]),
        sample=[list(row) for row in raw["sample"]],
        filled=[int(n) for n in raw["filled"]],
        unreadable_lines=int(raw.get("unreadable_lines", 0)),
        options=None if options is None else ImportOptions(**options),
    )
