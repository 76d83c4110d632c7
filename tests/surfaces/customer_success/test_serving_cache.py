"""Account answers come from the one serving path: a prediction made by one endpoint is the
cached answer of the others, and during a champion/challenger deployment an account routed to
the challenger is served from cache like any other (it was re-scored, and charged a quota
unit, on every request while the cache compared with the active model only)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.app import create_app
from propensity.db import Database
from propensity.models import ModelVersion, Prediction
from propensity.registry.routing import to_challenger
from propensity.settings import Settings
from propensity.training.service import train_prediction_type
from tests.factories import TenantUser
from tests.surfaces.customer_success.helpers import BASE, account_ids, call, trained_accounts

REMAINING = "X-RateLimit-Remaining"


@pytest.fixture
def tight_client(settings: Settings, database: Database) -> Iterator[TestClient]:
    tight = settings.model_copy(update={"cs_predict_daily_limit": "3/day"})
    with TestClient(create_app(tight, database)) as test_client:
        yield test_client


def _rows(database: Database, tenant_id: int, account_id: int, prediction_type: str) -> int:
    with database.tenant_session(tenant_id) as session:
        return int(
            session.scalar(
                sa.select(sa.func.count(Prediction.id)).where(
                    Prediction.customer_id == account_id,
                    Prediction.prediction_type == prediction_type,
                )
            )
            or 0
        )


def _deploy_challenger(
    client: TestClient, database: Database, user: TenantUser, prediction_type: str
) -> tuple[ModelVersion, int]:
    """A second model of the type trained for the accounts and deployed as the challenger of
    the active one, half the accounts routed to it: (the challenger, the deployment id)."""
    challenger_id = train_prediction_type(
        database,
        tenant_id=user.tenant_id,
        prediction_type=prediction_type,
        kind="account",
        seed=1,
        activate_when_done=False,
    ).version_id
    deploy = client.post(
        f"/api/ml/models/{challenger_id}/deploy",
        headers=user.headers,
        json={"aBTest": {"enabled": True, "trafficSplit": 0.5, "duration": "7d"}},
    )
    assert deploy.status_code == 200, deploy.text
    with database.tenant_session(user.tenant_id) as session:
        challenger = session.get(ModelVersion, challenger_id)
        assert challenger is not None
        session.expunge(challenger)
    return challenger, int(deploy.json()["data"]["deploymentId"])


def test_an_account_routed_to_the_challenger_is_served_from_cache_at_no_cost(
    tight_client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_accounts(database, settings, slug="cs-abcache")
    churn, churn_deployment = _deploy_challenger(tight_client, database, user, "CHURN")
    health, health_deployment = _deploy_challenger(tight_client, database, user, "HEALTH_TREND")
    ids = account_ids(database, user.tenant_id)[:40]
    both = [
        account
        for account, to_churn, to_health in zip(
            ids,
            to_challenger(churn_deployment, 0.5, ids),
            to_challenger(health_deployment, 0.5, ids),
            strict=True,
        )
        if to_churn and to_health
    ]
    assert len(both) >= 2
    account, other = both[:2]

    def ask(path: str, json: object = None) -> tuple[dict[str, object], str | None]:
        response = tight_client.request(
            "POST" if json is not None else "GET",
            BASE + path,
            headers=user.tenant_headers,
            json=json,
        )
        assert response.status_code == 200, response.text
        return response.json(), response.headers.get(REMAINING)

    churn_body = {"predictionType": "CHURN"}
    fresh, remaining = ask(f"/{account}/ml/predict", churn_body)
    assert "cached" not in fresh and remaining == "2"
    data = fresh["data"]
    assert isinstance(data, dict)
    assert data["modelVersion"] == f"v{churn.version_number}"
    for path, body in ((f"/{account}/ml/predict", churn_body), (f"/{account}/ml/churn-risk", None)):
        for _ in range(3):
            again, charged = ask(path, body)
            assert again["cached"] is True and charged is None
            assert isinstance(again["data"], dict)
            assert again["data"]["predictionId"] == data["predictionId"]
            assert again["data"]["predictedAt"] == data["predictedAt"]
    assert _rows(database, user.tenant_id, account, "CHURN") == 1

    insights, remaining = ask(f"/{account}/ml/health-insights")
    assert insights["cached"] is False and remaining == "1"
    first_health = insights["data"]
    assert isinstance(first_health, dict)
    assert first_health["modelVersion"] == f"v{health.version_number}"
    for path, body in (
        (f"/{account}/ml/health-insights", None),
        (f"/{account}/ml/predict", {"predictionType": "HEALTH_TREND"}),
    ):
        again, charged = ask(path, body)
        assert again["cached"] is True and charged is None
        assert isinstance(again["data"], dict)
        assert again["data"]["predictionId"] == first_health["predictionId"]
    assert _rows(database, user.tenant_id, account, "HEALTH_TREND") == 1

    # Nothing cached was charged: the quota of three has exactly one fresh prediction left.
    last, remaining = ask(f"/{other}/ml/churn-risk")
    assert last["cached"] is False and remaining == "0"
    third = next(i for i in ids if i not in (account, other))
    refused = tight_client.get(f"{BASE}/{third}/ml/churn-risk", headers=user.tenant_headers)
    assert refused.status_code == 429
    # The challenger's answers are still served from cache once the quota is spent.
    assert ask(f"/{account}/ml/churn-risk")[0]["cached"] is True


def test_a_prediction_made_by_one_endpoint_is_the_cached_answer_of_the_other(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_accounts(database, settings, slug="cs-onepath")
    first, second = account_ids(database, user.tenant_id)[:2]

    predicted = call(client, user, "POST", f"/{first}/ml/predict", json={"predictionType": "CHURN"})
    risk = call(client, user, "GET", f"/{first}/ml/churn-risk")
    assert "cached" not in predicted and risk["cached"] is True
    assert risk["data"]["predictionId"] == predicted["data"]["predictionId"]
    assert risk["data"]["predictedAt"] == predicted["data"]["predictedAt"]

    read = call(client, user, "GET", f"/{second}/ml/churn-risk")
    again = call(client, user, "POST", f"/{second}/ml/predict", json={"predictionType": "CHURN"})
    assert read["cached"] is False and again["cached"] is True
    assert again["data"]["predictionId"] == read["data"]["predictionId"]
    assert again["data"]["predictedAt"] == read["data"]["predictedAt"]
    for account in (first, second):
        assert _rows(database, user.tenant_id, account, "CHURN") == 1

    insights = call(client, user, "GET", f"/{first}/ml/health-insights")
    health = call(
        client, user, "POST", f"/{first}/ml/predict", json={"predictionType": "HEALTH_TREND"}
    )
    assert insights["cached"] is False and health["cached"] is True
    assert health["data"]["predictionId"] == insights["data"]["predictionId"]
    assert _rows(database, user.tenant_id, first, "HEALTH_TREND") == 1
