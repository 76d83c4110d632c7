"""An extra column's type is established by the tenant's data and by the file's other rows:
a value of another type is a row error and nothing is imported (the Telco export's tenure
column with one `not-a-number`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from propensity.crm.errors import ImportRejected
from propensity.crm.service import import_file
from propensity.db import Database
from propensity.models import Customer
from tests.features.helpers import new_tenant


@pytest.fixture
def tenant(database: Database) -> int:
    return new_tenant(database, "acme")


def _csv(tmp_path: Path, name: str, rows: list[tuple[str, str]]) -> Path:
    path = tmp_path / name
    lines = ["customer_id,tenure,Contract"] + [
        f"{cid},{tenure},Month-to-month" for cid, tenure in rows
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _import(database: Database, tenant: int, path: Path) -> None:
    with database.tenant_session(tenant) as session:
        import_file(session, kind="customers", path=path)


def _count(database: Database, tenant: int) -> int:
    with database.tenant_session(tenant) as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(Customer)) or 0)


def test_a_value_unlike_the_files_other_rows_rejects_the_file(
    database: Database, tenant: int, tmp_path: Path
) -> None:
    rows = [(f"c{i}", str(i % 70)) for i in range(40)] + [("c40", "not-a-number"), ("c41", "")]
    path = _csv(tmp_path, "customers.csv", rows)
    with pytest.raises(ImportRejected) as raised:
        _import(database, tenant, path)
    assert [(e.row, e.column) for e in raised.value.errors] == [(41, "tenure")]
    assert "expected a number as in its other rows, got 'not-a-number'" in str(
        raised.value.errors[0]
    )
    assert _count(database, tenant) == 0


def test_a_value_unlike_the_tenants_data_rejects_the_file(
    database: Database, tenant: int, tmp_path: Path
) -> None:
    _import(database, tenant, _csv(tmp_path, "first.csv", [(f"c{i}", str(i)) for i in range(30)]))
    with pytest.raises(ImportRejected) as raised:
        _import(database, tenant, _csv(tmp_path, "one.csv", [("c99", "not-a-number")]))
    assert [(e.row, e.column) for e in raised.value.errors] == [(1, "tenure")]
    assert "the tenant's data" in raised.value.errors[0].problem
    assert _count(database, tenant) == 30
    # A number written as text is a number.
    _import(database, tenant, _csv(tmp_path, "ok.csv", [("c99", "12")]))
    assert _count(database, tenant) == 31


def test_text_columns_may_hold_number_like_codes(
    database: Database, tenant: int, tmp_path: Path
) -> None:
    rows = [(f"c{i}", code) for i, code in enumerate(["A1", "B2", "3", "C4", "NA", "D5"])]
    _import(database, tenant, _csv(tmp_path, "codes.csv", rows))
    assert _count(database, tenant) == 6
