"""Imports reviewed in steps (the dashboard's): a file kept in the tenant's home with its
preview, a proposed mapping, a check that writes nothing, and the committed import."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pandas as pd
import pytest

from propensity.crm.contracts import ImportKind
from propensity.crm.errors import ImportRejected, TooManyRows
from propensity.crm.formats import SourceTable
from propensity.crm.proposals import normalise, propose_mapping
from propensity.crm.staging import (
    PREVIEW_ROWS,
    list_uploads,
    load_upload,
    read_upload,
    remember_options,
    stage_upload,
    sweep_uploads,
)
from propensity.crm.uploads import check_import, commit_import
from propensity.crm.validation import ImportOptions
from propensity.db import Database
from propensity.errors import InvalidInput, NotFound
from propensity.models import Customer
from propensity.settings import Settings
from tests.crm.helpers import count, new_tenant

TELCO = "customerID,gender,tenure,MonthlyCharges,Churn\n" + "".join(
    f"C-{i},F,{i},{20 + i}.5,{'Yes' if i % 3 == 0 else 'No'}\n" for i in range(1, 13)
)


def _stage(home: Path, text: str, *, tenant_id: int = 1, name: str = "t.csv") -> str:
    staged = stage_upload(
        home,
        tenant_id=tenant_id,
        kind="customers",
        filename=name,
        stream=io.BytesIO(text.encode()),
        user_id=None,
    )
    return staged.id


def test_names_are_normalised_and_mapped_once() -> None:
    assert normalise(" Monthly Charges ") == normalise("MonthlyCharges") == "monthly_charges"
    assert normalise("customerID") == "customer_id"
    columns = ["customerID", "customer_id", "Churn", "tenure", "gender", "Plan"]
    # customer_id is named exactly, so customerID is not proposed for it too.
    assert propose_mapping("customers", columns) == {
        "Churn": "churned",
        "tenure": "tenure_months",
        "Plan": "plan",
    }
    # Health snapshots keep no other columns: unknown ones are proposed for dropping.
    assert propose_mapping("health", ["account_id", "date", "score", "notes"]) == {
        "account_id": "customer_id",
        "date": "snapshot_date",
        "score": "overall_score",
        "notes": None,
    }


def test_an_upload_keeps_its_preview_and_is_only_its_tenants(tmp_path: Path) -> None:
    upload_id = _stage(tmp_path, TELCO)
    upload = load_upload(tmp_path, tenant_id=1, upload_id=upload_id)
    assert (upload.rows, upload.format, upload.checked) == (12, "csv", False)
    assert upload.columns == ["customerID", "gender", "tenure", "MonthlyCharges", "Churn"]
    assert len(upload.sample) == PREVIEW_ROWS and upload.sample[0][0] == "C-1"
    assert upload.filled == [12] * 5
    assert len(read_upload(tmp_path, tenant_id=1, upload_id=upload_id).frame) == 12
    with pytest.raises(NotFound):
        load_upload(tmp_path, tenant_id=2, upload_id=upload_id)
    with pytest.raises(NotFound):
        load_upload(tmp_path, tenant_id=1, upload_id="../../etc")

    options = ImportOptions(mapping={"Churn": "churned"}, customer_kind="account")
    remember_options(tmp_path, tenant_id=1, upload_id=upload_id, options=options)
    assert load_upload(tmp_path, tenant_id=1, upload_id=upload_id).options == options
    assert [u.id for u in list_uploads(tmp_path, tenant_id=1)] == [upload_id]


def test_refused_files_leave_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="must end in one of"):
        _stage(tmp_path, TELCO, name="t.xlsx")
    with pytest.raises(ImportRejected, match="more than once"):
        _stage(tmp_path, "a,a\n1,2\n")
    with pytest.raises(InvalidInput, match="no data rows"):
        _stage(tmp_path, "customer_id,plan\n")
    with pytest.raises(TooManyRows):
        _stage(tmp_path, "customer_id\n" + "x\n" * 50_001)
    assert list_uploads(tmp_path, tenant_id=1) == []
    assert not any((tmp_path / "uploads" / "1").iterdir())


def test_old_uploads_are_swept(tmp_path: Path) -> None:
    upload_id = _stage(tmp_path, TELCO)
    folder = tmp_path / "uploads" / "1" / upload_id
    old = time.time() - 2 * 24 * 3600
    os.utime(folder, (old, old))
    assert sweep_uploads(tmp_path, tenant_id=1) == 1
    assert list_uploads(tmp_path, tenant_id=1) == []


def test_a_check_writes_nothing_and_the_import_commits(
    database: Database, settings: Settings
) -> None:
    tenant_id = new_tenant(database, "acme")
    upload_id = _stage(settings.home, TELCO, tenant_id=tenant_id)
    table = read_upload(settings.home, tenant_id=tenant_id, upload_id=upload_id)
    options = ImportOptions(mapping=propose_mapping("customers", list(table.frame.columns)))
    with database.request_session(tenant_id) as session:
        checked = check_import(session, kind="customers", table=table, options=options)
        assert (checked.total, checked.inserted, checked.updated) == (12, 12, 0)
    assert count(database, tenant_id, Customer) == 0

    bad_text = TELCO.replace("C-2,F,2,", "C-2,F,two,")
    bad_id = _stage(settings.home, bad_text, tenant_id=tenant_id)
    bad = read_upload(settings.home, tenant_id=tenant_id, upload_id=bad_id)
    with database.request_session(tenant_id) as session, pytest.raises(ImportRejected) as info:
        commit_import(session, kind="customers", table=bad, options=options)
    assert [(e.row, e.column) for e in info.value.errors] == [(2, "tenure_months")]
    assert count(database, tenant_id, Customer) == 0

    with database.request_session(tenant_id) as session:
        done = commit_import(session, kind="customers", table=table, options=options)
    assert (done.inserted, count(database, tenant_id, Customer)) == (12, 12)


def test_the_check_counts_updates(database: Database, settings: Settings) -> None:
    tenant_id = new_tenant(database, "acme")
    frame = pd.DataFrame({"customer_id": ["C-1"], "plan": ["pro"]})
    table = read_upload(
        settings.home,
        tenant_id=tenant_id,
        upload_id=_stage(settings.home, frame.to_csv(index=False), tenant_id=tenant_id),
    )
    with database.request_session(tenant_id) as session:
        commit_import(session, kind="customers", table=table, options=ImportOptions())
    with database.request_session(tenant_id) as session:
        again = check_import(session, kind="customers", table=table, options=ImportOptions())
    assert (again.inserted, again.updated) == (0, 1)


def test_an_empty_input_imports_nothing_without_failing(database: Database) -> None:
    tenant_id = new_tenant(database, "acme")
    empty = SourceTable.from_frame(pd.DataFrame())
    for kind in ImportKind:
        with database.request_session(tenant_id) as session:
            result = check_import(session, kind=kind, table=empty, options=ImportOptions())
        assert (result.total, result.inserted, result.updated) == (0, 0, 0)


def test_json_lines_keep_their_line_numbers_and_unreadable_lines(tmp_path: Path) -> None:
    lines = (
        '{"customer_id": "a", "type": "login", "occurred_at": "2024-01-01T00:00:00Z", '
        '"properties": {"x": 1}}\nnot json\n\n'
        '{"customer_id": "b", "type": "ticket", "occurred_at": "2024-01-02"}\n'
    )
    staged = stage_upload(
        tmp_path,
        tenant_id=1,
        kind="events",
        filename="events.jsonl",
        stream=io.BytesIO(lines.encode()),
        user_id=None,
    )
    assert (staged.rows, staged.unreadable_lines) == (3, 1)
    assert staged.sample[0][3] == '{"x": 1}' and staged.filled == [2, 2, 2, 1]
    table = read_upload(tmp_path, tenant_id=1, upload_id=staged.id)
    assert [e.row for e in table.errors] == [2] and table.rows.tolist() == [1, 4]
