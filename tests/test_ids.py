"""Malformed ids are a 400 or 404 in the surface's envelope, never a crash: numbers past the
database's 64-bit integers, non-ASCII digits ('²'.isdigit() is true), negative ids."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from propensity.crm.lookup import parse_id
from propensity.db import Database
from propensity.settings import Settings
from tests.factories import make_tenant_user

HUGE = str(2**64 + 7)


@pytest.mark.parametrize("raw", [HUGE, "²", "-1", "0", "1e3", " 12 ", "١٢"])
def test_the_one_id_parser(raw: str) -> None:
    expected = 12 if raw == " 12 " else None
    assert parse_id(raw) == expected


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/ctas/{HUGE}",
        f"/api/v1/webhooks/{HUGE}",
        f"/api/v1/webhooks/{HUGE}/deliveries",
        "/api/v1/ctas/²",
        f"/api/crm/accounts/{HUGE}/ml/churn-risk",
        "/api/crm/accounts/²/ml/churn-risk",
        f"/api/lead-scoring/leads/{HUGE}/ml/prediction",
        f"/api/ml/models/{HUGE}",
        f"/api/customers/{HUGE}",
    ],
)
def test_out_of_range_ids_are_client_errors(
    client: TestClient, database: Database, settings: Settings, path: str
) -> None:
    user = make_tenant_user(database, settings)
    response = client.get(path, headers={**user.headers, "X-Tenant-ID": "acme"})
    assert response.status_code in (400, 404, 422), (path, response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")


def test_a_huge_key_id_on_delete_is_a_400(
    client: TestClient, database: Database, settings: Settings
) -> None:
    admin = make_tenant_user(database, settings)
    response = client.delete(f"/api/v1/api-keys/{HUGE}", headers=admin.headers)
    assert response.status_code == 400
