"""POST /api/v1/import/{kind}: the CLI's import over HTTP, atomic and tenant-scoped."""

from __future__ import annotations

import io
import json
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.api_v1.imports import MAX_ROWS
from propensity.db import Database
from propensity.models import Customer, Event, Role
from propensity.settings import Settings
from tests.crm.helpers import count, snapshot
from tests.factories import TenantUser, make_tenant_user

CUSTOMERS = [
    {"customer_id": "c1", "plan": "pro", "churn": "Yes", "seats": 12},
    {"customer_id": "c2", "plan": "basic", "churn": "no", "seats": 3},
]


@pytest.fixture
def analyst(database: Database, settings: Settings) -> TenantUser:
    return make_tenant_user(database, settings, slug="acme", role=Role.ANALYST)


def post(client: TestClient, user: TenantUser, kind: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/import/{kind}", json=body, headers=user.headers)


def test_happy_path_counts_and_upserts(
    client: TestClient, database: Database, analyst: TenantUser
) -> None:
    body = {"rows": CUSTOMERS, "label": "churn", "positive": "yes", "kind": "account"}
    response = post(client, analyst, "customers", body)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "kind": "customers",
        "total": 2,
        "inserted": 2,
        "updated": 0,
        "duplicates": 0,
    }
    with database.tenant_session(analyst.tenant_id) as session:
        c1 = session.scalars(sa.select(Customer).where(Customer.external_id == "c1")).one()
    assert (c1.kind, c1.churned, c1.plan, c1.attributes) == ("account", True, "pro", {"seats": 12})

    again = post(client, analyst, "customers", body).json()
    assert (again["inserted"], again["updated"]) == (0, 2)
    assert count(database, analyst.tenant_id, Customer) == 2


def test_events_with_nested_properties(
    client: TestClient, database: Database, analyst: TenantUser
) -> None:
    assert post(client, analyst, "customers", {"rows": CUSTOMERS}).status_code == 200
    rows = [
        {
            "customer_id": "c1",
            "type": "ticket_opened",
            "occurred_at": "2024-05-01T10:00:00Z",
            "properties": {"severity": "high"},
            "channel": "email",
        }
    ]
    response = post(client, analyst, "events", {"rows": rows})
    assert response.status_code == 200, response.text
    with database.tenant_session(analyst.tenant_id) as session:
        event = session.scalars(sa.select(Event)).one()
    assert event.properties == {"severity": "high", "channel": "email"}


def test_a_bad_row_is_a_400_with_the_rows_and_nothing_is_written(
    client: TestClient, database: Database, analyst: TenantUser
) -> None:
    assert post(client, analyst, "customers", {"rows": CUSTOMERS}).status_code == 200
    before = snapshot(database)
    rows = [{"customer_id": "c3", "arr": 10}, {"customer_id": "c4", "arr": "ten"}]
    response = post(client, analyst, "customers", {"rows": rows})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_ROWS"
    assert "nothing was imported" in error["message"]
    assert error["details"]["errors"] == [
        {"row": 2, "column": "arr", "problem": "not a number: 'ten'"}
    ]
    assert error["details"]["errorCount"] == 1
    assert snapshot(database) == before


def test_over_the_cap_is_a_413(client: TestClient, analyst: TenantUser) -> None:
    rows = [{"customer_id": str(i)} for i in range(MAX_ROWS + 1)]
    response = post(client, analyst, "customers", {"rows": rows})
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "PAYLOAD_TOO_LARGE"
    assert f"{MAX_ROWS:,}" in error["message"]


def test_authentication_and_roles(
    client: TestClient, database: Database, settings: Settings
) -> None:
    body = {"rows": CUSTOMERS}
    assert client.post("/api/v1/import/customers", json=body).status_code == 401
    viewer = make_tenant_user(database, settings, slug="acme", role=Role.VIEWER)
    response = post(client, viewer, "customers", body)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"
    admin = make_tenant_user(database, settings, slug="acme", role=Role.ADMIN, existing_tenant=True)
    assert post(client, admin, "customers", body).status_code == 200


def test_an_import_is_invisible_to_other_tenants(
    client: TestClient, database: Database, settings: Settings, analyst: TenantUser
) -> None:
    other = make_tenant_user(database, settings, slug="globex", role=Role.ANALYST)
    assert post(client, analyst, "customers", {"rows": CUSTOMERS}).status_code == 200
    assert count(database, other.tenant_id, Customer) == 0
    event = {"customer_id": "c1", "type": "login", "occurred_at": "2024-01-01"}
    response = post(client, other, "events", {"rows": [event]})
    assert response.status_code == 400
    assert response.json()["error"]["details"]["errors"][0]["column"] == "customer_id"
    assert count(database, analyst.tenant_id, Event) == 0
    assert post(client, analyst, "events", {"rows": [event]}).status_code == 200


def test_unknown_kind_and_bad_body(client: TestClient, analyst: TenantUser) -> None:
    assert post(client, analyst, "widgets", {"rows": []}).status_code in {400, 404, 422}
    response = post(client, analyst, "customers", {"rows": "nope"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_file_upload(client: TestClient, database: Database, analyst: TenantUser, fmt: str) -> None:
    frame = pd.DataFrame(CUSTOMERS)
    buffer = io.BytesIO()
    if fmt == "csv":
        frame.to_csv(buffer, index=False)
    elif fmt == "jsonl":
        buffer.write("".join(json.dumps(row) + "\n" for row in CUSTOMERS).encode())
    else:
        frame.to_parquet(buffer, index=False)
    response = client.post(
        "/api/v1/import/customers/file",
        files={"file": (f"customers.{fmt}", buffer.getvalue(), "application/octet-stream")},
        data={"label": "churn", "positive": "YES", "mapping": json.dumps({"seats": "licences"})},
        headers=analyst.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["inserted"] == 2
    with database.tenant_session(analyst.tenant_id) as session:
        churned = dict(session.execute(sa.select(Customer.external_id, Customer.churned)).all())
        attributes = session.scalars(sa.select(Customer.attributes)).all()
    assert churned == {"c1": True, "c2": False}
    assert all(set(a) == {"licences"} for a in attributes)


def test_file_upload_errors(client: TestClient, analyst: TenantUser) -> None:
    response = client.post(
        "/api/v1/import/customers/file",
        files={"file": ("data.xlsx", b"...", "application/octet-stream")},
        headers=analyst.headers,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "UNSUPPORTED_FORMAT"
    bad = b"customer_id,arr\nc1,1\nc2,x\n"
    response = client.post(
        "/api/v1/import/customers/file",
        files={"file": ("data.csv", bad, "text/csv")},
        headers=analyst.headers,
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["errors"] == [
        {"row": 2, "column": "arr", "problem": "not a number: 'x'"}
    ]


def test_the_endpoints_are_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "post" in paths["/api/v1/import/{kind}"]
    assert "post" in paths["/api/v1/import/{kind}/file"]
