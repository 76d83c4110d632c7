"""Request bodies are bounded before they are read (and before authentication): 413 in the
surface's envelope, for a declared length and for a chunked body alike; imports keep their
larger limit."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from propensity.app import create_app
from propensity.bodylimit import UPLOAD_LIMIT, limit_for
from propensity.db import Database
from propensity.settings import Settings
from tests.factories import make_tenant_user

LIMIT = 4096


@pytest.fixture
def small_client(settings: Settings, database: Database) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"max_body_bytes": LIMIT}), database)
    with TestClient(app) as client:
        yield client


def _big_json() -> bytes:
    return json.dumps({"name": "k", "padding": "x" * (LIMIT * 2)}).encode()


def test_a_declared_length_over_the_limit_is_refused_before_authentication(
    small_client: TestClient,
) -> None:
    response = small_client.post(
        "/api/v1/api-keys", content=_big_json(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    body = response.json()
    assert body["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert body["error"]["details"]["maxBytes"] == LIMIT


def test_a_chunked_body_is_cut_off_at_the_limit_in_the_surface_envelope(
    small_client: TestClient, database: Database, settings: Settings
) -> None:
    user = make_tenant_user(database, settings)

    def chunks() -> Iterator[bytes]:
        data = _big_json()
        for start in range(0, len(data), 1000):
            yield data[start : start + 1000]

    response = small_client.post(
        "/api/crm/accounts/1/ml/predict",
        content=chunks(),
        headers={**user.headers, "Content-Type": "application/json", "X-Tenant-ID": "acme"},
    )
    assert response.status_code == 413
    # The customer-success envelope: {error: message, code}.
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"


def test_imports_take_more_than_a_json_body(
    small_client: TestClient, database: Database, settings: Settings
) -> None:
    user = make_tenant_user(database, settings)
    rows = [{"customer_id": f"c{i}", "kind": "subscriber"} for i in range(200)]
    payload = json.dumps({"rows": rows}).encode()
    assert len(payload) > LIMIT
    response = small_client.post(
        "/api/v1/import/customers",
        content=payload,
        headers={**user.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert limit_for("/api/v1/import/events/file", LIMIT) == UPLOAD_LIMIT
    assert limit_for("/api/v1/api-keys", LIMIT) == LIMIT
