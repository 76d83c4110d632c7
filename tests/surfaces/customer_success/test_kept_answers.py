"""A stored account answer asked for again is served from what this process kept, without a
database statement, until any process commits a write to the tenant's data."""

from __future__ import annotations

import subprocess
import sys

from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.settings import Settings
from tests.factories import make_simulated_tenant
from tests.statements import captured_statements
from tests.surfaces.customer_success.helpers import BASE, account_ids, call, trained_accounts


def test_a_stored_answer_asked_again_runs_no_statement_until_a_write(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_accounts(database, settings, slug="cs-kept")
    account = account_ids(database, user.tenant_id)[0]
    path = f"/{account}/ml/churn-risk"
    first = call(client, user, "GET", path)
    stored = call(client, user, "GET", path)
    assert first["cached"] is False and stored["cached"] is True
    assert stored["data"]["predictionId"] == first["data"]["predictionId"]

    for method, json in (("GET", None), ("POST", {"predictionType": "CHURN"})):
        with captured_statements(database) as statements:
            again = client.request(
                method,
                BASE + (path if method == "GET" else f"/{account}/ml/predict"),
                headers=user.tenant_headers,
                json=json,
            )
        assert again.status_code == 200
        assert again.json() == stored
        assert statements == []

    forced = call(
        client,
        user,
        "POST",
        f"/{account}/ml/predict",
        json={"predictionType": "CHURN", "options": {"forceRefresh": True}},
    )
    assert forced["data"]["predictionId"] != first["data"]["predictionId"]
    after = call(client, user, "GET", path)
    assert after["cached"] is True
    assert after["data"]["predictionId"] == forced["data"]["predictionId"]


def test_a_write_by_another_process_is_seen_by_the_next_answer(
    client: TestClient, database: Database, settings: Settings
) -> None:
    """Another process (a worker, a job, the CLI) ends the stored prediction's validity: the
    next request answers with a new prediction, not with what this process kept."""
    user = trained_accounts(database, settings, slug="cs-kept-other")
    account = account_ids(database, user.tenant_id)[0]
    path = f"/{account}/ml/churn-risk"
    call(client, user, "GET", path)
    kept = call(client, user, "GET", path)
    assert kept["cached"] is True

    code = f"""
import sqlalchemy as sa
from propensity.db import Database, utcnow
from propensity.models import Prediction
database = Database({settings.resolved_database_url!r})
with database.tenant_session({user.tenant_id}) as session:
    session.execute(
        sa.update(Prediction)
        .where(Prediction.id == {kept["data"]["predictionId"]})
        .values(valid_until=utcnow())
    )
database.dispose()
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)

    after = call(client, user, "GET", path)
    assert after["cached"] is False
    assert after["data"]["predictionId"] != kept["data"]["predictionId"]


def test_what_one_tenant_kept_is_never_anothers_answer(
    client: TestClient, database: Database, settings: Settings
) -> None:
    owner = trained_accounts(database, settings, slug="cs-kept-owner")
    other = make_simulated_tenant(database, settings, slug="cs-kept-stranger", accounts=5)
    account = account_ids(database, owner.tenant_id)[0]
    path = f"/{account}/ml/churn-risk"
    call(client, owner, "GET", path)
    assert call(client, owner, "GET", path)["cached"] is True

    stranger = client.get(BASE + path, headers=other.tenant_headers)
    assert stranger.status_code in (404, 503), stranger.text
    assert "predictionId" not in stranger.text
    assert call(client, owner, "GET", path)["cached"] is True
