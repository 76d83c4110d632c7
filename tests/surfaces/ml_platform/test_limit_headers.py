"""Every counted ML-platform request says what is left of its class's limit, whether the
endpoint returns a body for FastAPI to render or renders its own response (the lead score,
the 202 of a batch-score)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.settings import Settings
from tests.jobs.support import own_queue
from tests.surfaces.ml_platform.helpers_scores import BASE, lead_ids, trained_leads

REMAINING, LIMIT = "X-RateLimit-Remaining", "X-RateLimit-Limit"


def test_the_lead_score_and_a_batch_score_carry_their_limit_headers(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_leads(database, settings)
    lead = lead_ids(database, user.tenant_id)[0]
    path = f"{BASE}/leads/{lead}/score"
    first = client.get(path, params={"explain": "true"}, headers=user.headers)
    second = client.get(path, headers=user.headers)
    assert first.status_code == second.status_code == 200, first.text
    assert first.json()["data"]["leadId"] == lead
    assert int(first.headers[REMAINING]) == int(second.headers[REMAINING]) + 1
    assert first.headers[LIMIT] == second.headers[LIMIT] == "500"  # the document's scoring limit

    with own_queue(settings, database):
        batch = client.post(
            f"{BASE}/leads/batch-score", json={"leadIds": [lead]}, headers=user.headers
        )
    assert batch.status_code == 202, batch.text
    assert batch.headers[LIMIT] == "50"  # the batch class, counted apart from scoring
    assert int(batch.headers[REMAINING]) == 49
