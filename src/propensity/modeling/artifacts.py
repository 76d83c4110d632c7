"""One self-describing bytes blob per model: a zip holding `manifest.json` (preprocessing, linear
model, calibrator, metrics, statistics, selection: all plain JSON) and, when the model has trees,
`booster.ubj` in XGBoost's own format (and `catboost.cbm`, CatBoost's, when it is a member). No
pickle: an artifact never executes code when loaded, and a later version of the libraries can still
read it. Entries carry a fixed timestamp so the same model always gives the same bytes and
therefore the same content hash."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any

from propensity.errors import InvalidInput

FORMAT = "propensity-model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BOOSTER = "booster.ubj"
CATBOOST = "catboost.cbm"  # CatBoost's own binary format, when the model uses it
_EPOCH = (1980, 1, 1, 0, 0, 0)


def write_container(manifest: Mapping[str, Any], blobs: Mapping[str, bytes]) -> bytes:
    document = {"format": FORMAT, "format_version": FORMAT_VERSION, **manifest}
    entries = {MANIFEST: json.dumps(document, sort_keys=True, allow_nan=False).encode(), **blobs}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[name])
    return buffer.getvalue()


def read_container(blob: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            entries = {name: archive.read(name) for name in archive.namelist()}
        manifest = json.loads(entries.pop(MANIFEST))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InvalidInput("Not a Propensity model artifact.") from exc
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise InvalidInput(
            "Unsupported model artifact format.",
            details={"format": manifest.get("format"), "version": manifest.get("format_version")},
        )
    return manifest, entries


def content_hash(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()
