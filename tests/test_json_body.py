"""JSON request bodies with NaN, Infinity or nesting too deep to parse are refused with a 400
naming the problem, in the surface's envelope, before any endpoint reads them."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.settings import Settings
from tests.factories import make_tenant_user


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_json_body_with_a_non_finite_number_is_a_400_in_the_surface_envelope(
    client: TestClient, database: Database, settings: Settings, constant: str
) -> None:
    user = make_tenant_user(database, settings)
    body = '{"rows": [{"customer_id": "c1", "kind": "subscriber", "score": ' + constant + "}]}"
    response = client.post(
        "/api/v1/import/customers",
        content=body,
        headers={**user.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert constant.lstrip("-") in response.json()["error"]["message"]
    # The lead-ml surface words it its own way.
    lead = client.post(
        "/api/lead-scoring/leads/1/ml/predict",
        content='{"x": ' + constant + "}",
        headers={**user.headers, "Content-Type": "application/json"},
    )
    assert lead.status_code == 400 and "JSON number" in json.dumps(lead.json())


def test_a_deeply_nested_body_is_a_400(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = make_tenant_user(database, settings)
    body = "[" * 100_000 + "]" * 100_000
    response = client.post(
        "/api/v1/api-keys",
        content=body,
        headers={**user.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]["message"]
