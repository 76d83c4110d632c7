"""Import bombs are refused before they are built: too many columns (CSV header, JSON Lines
keys, JSON rows' keys), too many rows, a Parquet file that decompresses to too much."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from propensity.crm.errors import TooManyRows
from propensity.crm.formats import MAX_COLUMNS, Bounds, read_path
from propensity.db import Database
from propensity.settings import Settings
from tests.factories import make_tenant_user


def test_a_csv_header_with_too_many_columns(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    names = ["customer_id", *(f"c{i}" for i in range(MAX_COLUMNS + 5))]
    path.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    with pytest.raises(TooManyRows) as raised:
        read_path(path)
    assert raised.value.details["maxColumns"] == MAX_COLUMNS


def test_json_lines_with_ever_new_keys_stop_at_the_column_bound(tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    with path.open("w") as out:
        for i in range(MAX_COLUMNS * 3):
            out.write(json.dumps({"customer_id": f"c{i}", f"key_{i}": 1}) + "\n")
    with pytest.raises(TooManyRows) as raised:
        read_path(path)
    assert raised.value.details["columns"] == MAX_COLUMNS + 1


def test_rows_past_the_bound_are_not_read(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("customer_id\n" + "\n".join(f"c{i}" for i in range(120)) + "\n")
    with pytest.raises(TooManyRows):
        read_path(path, bounds=Bounds(max_rows=100))
    assert len(read_path(path, bounds=Bounds(max_rows=120)).frame) == 120
    jsonl = tmp_path / "long.jsonl"
    jsonl.write_text("".join(json.dumps({"customer_id": f"c{i}"}) + "\n" for i in range(120)))
    with pytest.raises(TooManyRows):
        read_path(jsonl, bounds=Bounds(max_rows=100))


def test_a_parquet_file_is_judged_by_its_footer(tmp_path: Path) -> None:
    path = tmp_path / "bomb.parquet"
    # 2,000 rows of the same 10 kB text: about 20 MB once decompressed, a few kB on disk.
    table = pa.table({"customer_id": [f"c{i}" for i in range(2000)], "note": ["x" * 10_000] * 2000})
    pq.write_table(table, path, compression="zstd", use_dictionary=False)
    assert path.stat().st_size < 200_000
    with pytest.raises(TooManyRows) as raised:
        read_path(path, bounds=Bounds(max_decompressed_bytes=5 * 1024 * 1024))
    assert raised.value.details["bytes"] > 5 * 1024 * 1024
    with pytest.raises(TooManyRows):
        read_path(path, bounds=Bounds(max_rows=1000))
    assert len(read_path(path).frame) == 2000


def test_json_rows_with_too_many_distinct_keys_are_a_413(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = make_tenant_user(database, settings)
    rows = [{"customer_id": f"c{i}", f"k{i}": 1} for i in range(MAX_COLUMNS + 10)]
    response = client.post("/api/v1/import/customers", json={"rows": rows}, headers=user.headers)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
