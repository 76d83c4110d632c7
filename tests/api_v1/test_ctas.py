"""GET/POST /api/v1/ctas, GET/PATCH /api/v1/ctas/{id}."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from propensity.ctas.service import generate_cta
from propensity.db import Database
from propensity.models import Role
from propensity.settings import Settings
from tests.ctas.factories import NOW, make_account, make_prediction
from tests.factories import TenantUser, make_tenant_user

FIELDS = {
    "id",
    "type",
    "priority",
    "title",
    "description",
    "dueDate",
    "status",
    "accountId",
    "predictionId",
    "reason",
    "source",
    "createdAt",
    "updatedAt",
    "completedAt",
    "cancelledAt",
}


@pytest.fixture
def analyst(database: Database, settings: Settings) -> TenantUser:
    return make_tenant_user(database, settings, role=Role.ANALYST)


@pytest.fixture
def viewer(database: Database, settings: Settings, analyst: TenantUser) -> TenantUser:
    return make_tenant_user(
        database, settings, slug=analyst.tenant_slug, role=Role.VIEWER, existing_tenant=True
    )


def make_account_id(database: Database, user: TenantUser, external_id: str = "acct-1") -> int:
    with database.tenant_session(user.tenant_id) as session:
        account_id: int = make_account(session, external_id=external_id).id
        return account_id


def make_generated_cta(database: Database, user: TenantUser) -> int:
    with database.tenant_session(user.tenant_id) as session:
        account = make_account(session, external_id="generated")
        outcome = generate_cta(
            session,
            customer=account,
            prediction=make_prediction(session, customer=account),
            threshold=0.45,
            user_id=user.user_id,
            now=NOW,
        )
        assert outcome.cta is not None
        cta_id: int = outcome.cta.id
        return cta_id


def create(client: TestClient, user: TenantUser, **body: Any) -> Any:
    response = client.post("/api/v1/ctas", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_a_manual_cta_then_read_and_list_it(
    client: TestClient, database: Database, analyst: TenantUser, viewer: TenantUser
) -> None:
    account_id = make_account_id(database, analyst)
    made = create(
        client,
        analyst,
        accountId=account_id,
        type="renewal",
        priority="HIGH",
        title="Prepare the renewal review",
        dueDate="2026-12-01T00:00:00Z",
    )
    assert set(made) == FIELDS
    assert (made["type"], made["status"], made["source"], made["reason"]) == (
        "RENEWAL",
        "OPEN",
        "manual",
        "Created manually",
    )
    assert (made["dueDate"], made["accountId"]) == ("2026-12-01T00:00:00Z", account_id)
    read = client.get(f"/api/v1/ctas/{made['id']}", headers=viewer.headers)
    assert read.status_code == 200 and read.json() == made
    listed = client.get(f"/api/v1/ctas?accountId={account_id}", headers=viewer.headers)
    assert [c["id"] for c in listed.json()] == [made["id"]]
    other = client.get("/api/v1/ctas?type=RISK&status=OPEN", headers=viewer.headers)
    assert other.json() == []


def test_list_filters_generated_ctas_and_pages(
    client: TestClient, database: Database, analyst: TenantUser
) -> None:
    generated = make_generated_cta(database, analyst)
    manual = create(
        client,
        analyst,
        accountId=make_account_id(database, analyst),
        type="RISK",
        priority="LOW",
        title="Call",
    )
    everything = client.get("/api/v1/ctas", headers=analyst.headers).json()
    assert [c["id"] for c in everything] == [manual["id"], generated]
    risk = client.get("/api/v1/ctas?type=risk&limit=1&offset=1", headers=analyst.headers).json()
    assert [c["id"] for c in risk] == [generated]
    assert risk[0]["title"] == "Address churn risk - 72% probability"
    assert risk[0]["predictionId"] is not None


def test_patch_moves_the_lifecycle_and_final_states_conflict(
    client: TestClient, database: Database, analyst: TenantUser
) -> None:
    cta_id = make_generated_cta(database, analyst)
    path = f"/api/v1/ctas/{cta_id}"
    started = client.patch(
        path, json={"status": "IN_PROGRESS", "priority": "MEDIUM"}, headers=analyst.headers
    )
    assert started.status_code == 200, started.text
    assert (started.json()["status"], started.json()["priority"]) == ("IN_PROGRESS", "MEDIUM")
    moved = client.patch(
        path, json={"dueDate": "2026-07-01T12:00:00+02:00"}, headers=analyst.headers
    )
    assert moved.json()["dueDate"] == "2026-07-01T10:00:00Z"
    done = client.patch(path, json={"status": "COMPLETED"}, headers=analyst.headers).json()
    assert done["status"] == "COMPLETED" and done["completedAt"] is not None
    again = client.patch(path, json={"status": "CANCELLED"}, headers=analyst.headers)
    assert again.status_code == 409
    error = again.json()["error"]
    assert "COMPLETED, which is final" in error["message"]
    assert error["details"] == {"status": "COMPLETED", "allowed": []}
    assert client.get(path, headers=analyst.headers).json()["status"] == "COMPLETED"


def test_bad_values_are_400s_that_name_the_fix(
    client: TestClient, database: Database, analyst: TenantUser
) -> None:
    cta_id = make_generated_cta(database, analyst)
    path = f"/api/v1/ctas/{cta_id}"
    cases = [
        ({"status": "DONE"}, "status must be one of OPEN, IN_PROGRESS, COMPLETED, CANCELLED"),
        ({"priority": "urgent"}, "priority must be one of HIGH, MEDIUM, LOW"),
        ({}, "Nothing to update: send status, priority or dueDate"),
    ]
    for body, message in cases:
        response = client.patch(path, json=body, headers=analyst.headers)
        assert response.status_code == 400, response.text
        assert message in response.json()["error"]["message"]
    assert client.patch(path, json={"dueDate": "soon"}, headers=analyst.headers).status_code == 400
    account_id = make_account_id(database, analyst, "x")
    bad_type = client.post(
        "/api/v1/ctas",
        json={"accountId": account_id, "type": "CALL", "priority": "LOW", "title": "t"},
        headers=analyst.headers,
    )
    assert bad_type.status_code == 400
    assert "type must be one of RISK, RENEWAL, ONBOARDING" in bad_type.json()["error"]["message"]
    no_title = client.post(
        "/api/v1/ctas",
        json={"accountId": account_id, "type": "RISK", "priority": "LOW", "title": ""},
        headers=analyst.headers,
    )
    assert no_title.status_code == 400
    bad_filter = client.get("/api/v1/ctas?status=closed", headers=analyst.headers)
    assert bad_filter.status_code == 400


def test_unknown_ids_are_404(client: TestClient, analyst: TenantUser) -> None:
    missing = client.get("/api/v1/ctas/987654", headers=analyst.headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "CTA 987654 not found"
    patched = client.patch(
        "/api/v1/ctas/987654", json={"status": "COMPLETED"}, headers=analyst.headers
    )
    assert patched.status_code == 404
    no_account = client.post(
        "/api/v1/ctas",
        json={"accountId": 987654, "type": "RISK", "priority": "LOW", "title": "t"},
        headers=analyst.headers,
    )
    assert no_account.status_code == 404
    assert no_account.json()["error"]["message"] == "Account 987654 not found"


def test_viewers_read_but_do_not_write(
    client: TestClient, database: Database, analyst: TenantUser, viewer: TenantUser
) -> None:
    cta_id = make_generated_cta(database, analyst)
    assert client.get(f"/api/v1/ctas/{cta_id}", headers=viewer.headers).status_code == 200
    patched = client.patch(
        f"/api/v1/ctas/{cta_id}", json={"status": "COMPLETED"}, headers=viewer.headers
    )
    assert patched.status_code == 403
    created = client.post(
        "/api/v1/ctas",
        json={"accountId": 1, "type": "RISK", "priority": "LOW", "title": "t"},
        headers=viewer.headers,
    )
    assert created.status_code == 403
    assert client.get("/api/v1/ctas").status_code == 401


def test_another_tenants_ctas_are_invisible_and_untouchable(
    client: TestClient, database: Database, settings: Settings, analyst: TenantUser
) -> None:
    other = make_tenant_user(database, settings, slug="other", role=Role.ANALYST)
    theirs = make_generated_cta(database, other)
    their_account = make_account_id(database, other, "theirs")
    assert client.get("/api/v1/ctas", headers=analyst.headers).json() == []
    assert client.get(f"/api/v1/ctas/{theirs}", headers=analyst.headers).status_code == 404
    patched = client.patch(
        f"/api/v1/ctas/{theirs}", json={"status": "CANCELLED"}, headers=analyst.headers
    )
    assert patched.status_code == 404
    created = client.post(
        "/api/v1/ctas",
        json={"accountId": their_account, "type": "RISK", "priority": "LOW", "title": "t"},
        headers=analyst.headers,
    )
    assert created.status_code == 404
    assert client.get(f"/api/v1/ctas/{theirs}", headers=other.headers).json()["status"] == "OPEN"
