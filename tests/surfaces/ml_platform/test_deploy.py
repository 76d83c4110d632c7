"""Champion/challenger deploys: the sticky split (the issue's done-when on 5,000 leads through
the routing function, and end to end on scored leads), promotion, rollback by the guardrail,
immediate deploys and the documented errors."""

from __future__ import annotations

from functools import partial
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database, utcnow
from propensity.models import Lead, ModelVersion, Prediction
from propensity.predictions.batch import score_portfolio
from propensity.predictions.service import score_and_record
from propensity.registry.routing import to_challenger
from propensity.registry.tasks import evaluate_due
from propensity.serving import serving_models
from propensity.settings import Settings
from propensity.training.service import train_prediction_type
from propensity.vocabulary import Population, PredictionType
from tests.factories import TenantUser, make_simulated_tenant
from tests.surfaces.ml_platform.helpers_monitoring import assert_error

BASE = "/api/ml"
LEADS = 300
# Training rows for the 5,000-lead test: the models only need to exist, routing is under test.
ROWS = 1500
AB = {"aBTest": {"enabled": True, "trafficSplit": 0.1, "duration": "7d"}}


def send(
    client: TestClient,
    user: TenantUser,
    method: str,
    path: str,
    *,
    body: Any = None,
    expect: int = 200,
) -> Any:
    response = client.request(method, BASE + path, headers=user.headers, json=body)
    assert response.status_code == expect, response.text
    payload = response.json()
    return payload["data"] if expect < 400 else payload["error"]


def test_ten_percent_of_5000_leads_go_to_the_challenger_always_the_same_ones() -> None:
    leads = list(range(1, 5001))
    first = to_challenger(17, 0.1, leads)
    share = first.mean()
    assert 0.08 <= share <= 0.12, share
    assert (to_challenger(17, 0.1, leads) == first).all()
    # Order does not matter: routing depends on the lead alone.
    backwards = to_challenger(17, 0.1, leads[::-1])[::-1]
    assert (backwards == first).all()
    # Another deployment draws another sample of the same size.
    other = to_challenger(18, 0.1, leads)
    assert 0.08 <= other.mean() <= 0.12 and (other != first).any()


def _tenant(database: Database, settings: Settings, slug: str) -> tuple[TenantUser, int, int]:
    """A lead tenant with an active champion and an inactive candidate."""
    user = make_simulated_tenant(database, settings, slug=slug, leads=LEADS)
    champion = train_prediction_type(
        database, tenant_id=user.tenant_id, prediction_type="CONVERSION", seed=0
    ).version_id
    challenger = train_prediction_type(
        database,
        tenant_id=user.tenant_id,
        prediction_type="CONVERSION",
        seed=1,
        activate_when_done=False,
    ).version_id
    return user, champion, challenger


def _served(database: Database, tenant_id: int) -> dict[int, tuple[str, int]]:
    with database.tenant_session(tenant_id) as session:
        rows = session.execute(
            sa.select(Prediction.lead_id, Prediction.served_by, Prediction.model_version_id).where(
                Prediction.prediction_type == "CONVERSION", Prediction.status == "ACTIVE"
            )
        ).all()
    return {int(lead): (str(by), int(model)) for lead, by, model in rows}


def _judge(
    database: Database, tenant_id: int, *, champion_right: float, challenger_right: float
) -> None:
    """Records outcomes: the given share of each arm's predictions judged accurate."""
    with database.tenant_session(tenant_id) as session:
        for arm, share in (("champion", champion_right), ("challenger", challenger_right)):
            ids = list(
                session.scalars(
                    sa.select(Prediction.id)
                    .where(Prediction.served_by == arm)
                    .order_by(Prediction.id)
                )
            )
            cut = round(len(ids) * share)
            for accurate, chunk in ((True, ids[:cut]), (False, ids[cut:])):
                if chunk:
                    session.execute(
                        sa.update(Prediction)
                        .where(Prediction.id.in_(chunk))
                        .values(was_accurate=accurate, validated_at=utcnow())
                    )


def test_deploy_splits_traffic_stickily_and_promotes_a_better_challenger(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, champion, challenger = _tenant(database, settings, "ab")
    body = {
        **AB,
        "aBTest": {**AB["aBTest"], "trafficSplit": 0.3},
        "validationResults": {"accuracy": 0.9},
        "rollbackPlan": {"previousModel": str(champion), "monitoringPeriod": "24h"},
    }
    deployed = send(client, user, "POST", f"/models/{challenger}/deploy", body=body)
    assert deployed["status"] == "running" and deployed["trafficSplit"] == 0.3
    assert deployed["championModelId"] == str(champion)
    assert deployed["validationResults"] == {"accuracy": 0.9}
    assert deployed["guardrails"]["accuracyDrop"] == 0.05
    with database.tenant_session(user.tenant_id) as session:
        leads = [int(i) for i in session.scalars(sa.select(Lead.id))]
        score_and_record(session, prediction_type="CONVERSION", entity_ids=leads)
    first = _served(database, user.tenant_id)
    routed = dict(zip(leads, to_challenger(deployed["deploymentId"], 0.3, leads), strict=True))
    scored = set(first)
    assert len(scored) > 100
    for lead, (by, model) in first.items():
        expected = "challenger" if routed[lead] else "champion"
        assert by == expected and model == (challenger if routed[lead] else champion)
    share = sum(1 for by, _ in first.values() if by == "challenger") / len(first)
    assert 0.2 < share < 0.4
    # Scored again, by the batch job's path this time: every lead keeps its model.
    score_portfolio(partial(database.tenant_session, user.tenant_id), prediction_type="CONVERSION")
    assert _served(database, user.tenant_id) == first

    _judge(database, user.tenant_id, champion_right=0.6, challenger_right=0.8)
    state = send(client, user, "POST", f"/models/{challenger}/deployment/evaluate", body={})
    assert state["status"] == "running"  # before the end of the duration
    assert state["arms"]["challenger"]["validated"] > 30
    done = send(
        client, user, "POST", f"/models/{challenger}/deployment/evaluate", body={"force": True}
    )
    assert done["status"] == "promoted" and done["decision"]["outcome"] == "promoted"
    assert done["decision"]["challenger"]["accuracy"] > done["decision"]["champion"]["accuracy"]
    assert send(client, user, "GET", f"/models/{challenger}")["status"] == "active"
    assert send(client, user, "GET", f"/models/{champion}")["status"] == "inactive"
    with database.tenant_session(user.tenant_id) as session:
        score_and_record(session, prediction_type="CONVERSION", entity_ids=leads)
    after = _served(database, user.tenant_id)
    assert {by for by, _ in after.values()} == {"champion"}
    assert {model for _, model in after.values()} == {challenger}


def test_guardrail_rolls_back_a_worse_challenger_and_errors_are_documented(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, champion, challenger = _tenant(database, settings, "guard")
    for body, field in (
        ({"aBTest": {"enabled": True, "trafficSplit": 1.5}}, "aBTest.trafficSplit"),
        ({"aBTest": {"enabled": True, "trafficSplit": 0.1, "duration": "7x"}}, "aBTest.duration"),
        ({**AB, "rollbackPlan": {"monitoringPeriod": "soon"}}, "rollbackPlan.monitoringPeriod"),
        ({**AB, "rollbackPlan": {"previousModel": str(challenger)}}, "rollbackPlan.previousModel"),
    ):
        error = send(client, user, "POST", f"/models/{challenger}/deploy", body=body, expect=400)
        assert_error(error, "VALIDATION_ERROR")
        assert error["details"]["field"] == field
    itself = send(client, user, "POST", f"/models/{champion}/deploy", body=AB, expect=409)
    assert_error(itself, "INVALID_STATUS_TRANSITION")
    missing = send(client, user, "POST", "/models/987654/deploy", body=AB, expect=404)
    assert_error(missing, "MODEL_NOT_FOUND")
    assert send(client, user, "GET", f"/models/{challenger}/deployment", expect=404)["code"] == (
        "DEPLOYMENT_NOT_FOUND"
    )
    body = {**AB, "aBTest": {**AB["aBTest"], "trafficSplit": 0.4}}
    deployment = send(client, user, "POST", f"/models/{challenger}/deploy", body=body)
    again = send(client, user, "POST", f"/models/{challenger}/deploy", body=body, expect=409)
    assert_error(again, "DEPLOYMENT_RUNNING")
    busy = send(client, user, "DELETE", f"/models/{challenger}", expect=409)
    assert_error(busy, "DEPLOYMENT_RUNNING")
    with database.tenant_session(user.tenant_id) as session:
        leads = [int(i) for i in session.scalars(sa.select(Lead.id))]
        score_and_record(session, prediction_type="CONVERSION", entity_ids=leads)
    _judge(database, user.tenant_id, champion_right=0.8, challenger_right=0.5)
    # The hourly task sees the guardrail breached well before the end of the test.
    assert evaluate_due(database) == {user.tenant_id: ["rolled_back"]}
    state = send(client, user, "GET", f"/models/{challenger}/deployment")
    assert state["deploymentId"] == deployment["deploymentId"]
    assert state["decision"]["reason"] == "challenger accuracy below guardrail"
    assert send(client, user, "GET", f"/models/{champion}")["status"] == "active"
    assert send(client, user, "GET", f"/models/{challenger}")["status"] == "inactive"
    with database.tenant_session(user.tenant_id) as session:
        score_and_record(session, prediction_type="CONVERSION", entity_ids=leads)
    assert set(_served(database, user.tenant_id).values()) == {("champion", champion)}
    ended = send(client, user, "POST", f"/models/{challenger}/deployment/rollback", expect=409)
    assert_error(ended, "INVALID_STATUS_TRANSITION")


def test_deploy_without_ab_test_activates_at_once_and_keeps_the_previous_model(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, champion, challenger = _tenant(database, settings, "now")
    deployed = send(
        client,
        user,
        "POST",
        f"/models/{challenger}/deploy",
        body={"aBTest": {"enabled": False}, "rollbackPlan": {"previousModel": str(champion)}},
    )
    assert deployed["status"] == "promoted" and deployed["championModelId"] == str(champion)
    with database.tenant_session(user.tenant_id) as session:
        statuses = dict(session.execute(sa.select(ModelVersion.id, ModelVersion.status)).all())
    assert statuses == {champion: "inactive", challenger: "active"}
    # Rolling back is activating the previous model again.
    send(
        client,
        user,
        "PUT",
        f"/models/{champion}/status",
        body={"status": "active", "reason": "rollback"},
    )
    with database.tenant_session(user.tenant_id) as session:
        version = session.get(ModelVersion, challenger)
        assert version is not None
        version.status = "training"
    not_ready = send(client, user, "POST", f"/models/{challenger}/deploy", body=AB, expect=409)
    assert_error(not_ready, "MODEL_NOT_READY")


def test_done_when_a_tenth_of_5000_scored_leads_come_from_the_challenger_every_time(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = make_simulated_tenant(database, settings, slug="big", leads=5000)
    champion = train_prediction_type(
        database, tenant_id=user.tenant_id, prediction_type="CONVERSION", seed=0, max_rows=ROWS
    ).version_id
    challenger = train_prediction_type(
        database,
        tenant_id=user.tenant_id,
        prediction_type="CONVERSION",
        seed=1,
        max_rows=ROWS,
        activate_when_done=False,
    ).version_id
    send(client, user, "POST", f"/models/{challenger}/deploy", body=AB)
    with database.tenant_session(user.tenant_id) as session:
        leads = [int(i) for i in session.scalars(sa.select(Lead.id))]
    assert len(leads) >= 5000
    score = partial(
        score_portfolio,
        partial(database.tenant_session, user.tenant_id),
        prediction_type="CONVERSION",
        entity_ids=leads,
    )
    score()
    first = _served(database, user.tenant_id)
    assert len(first) == len(leads)
    share = sum(1 for by, _ in first.values() if by == "challenger") / len(first)
    assert 0.08 <= share <= 0.12, share
    assert {model for by, model in first.values() if by == "challenger"} == {challenger}
    assert {model for by, model in first.values() if by == "champion"} == {champion}
    score()
    assert _served(database, user.tenant_id) == first


def test_single_entity_paths_get_the_same_model_as_batches(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, champion, challenger = _tenant(database, settings, "one")
    deployed = send(client, user, "POST", f"/models/{challenger}/deploy", body=AB)
    with database.tenant_session(user.tenant_id) as session:
        leads = [int(i) for i in session.scalars(sa.select(Lead.id))]
        active = session.get(ModelVersion, champion)
        assert active is not None
        routed = to_challenger(deployed["deploymentId"], 0.1, leads)
        serving = serving_models(
            session, prediction_type=PredictionType.CONVERSION, population=Population.LEAD.value
        )
        assert serving.active.id == active.id
        for lead, to_new in zip(leads, routed, strict=True):
            version, served_by = serving.for_entity(lead)
            assert (version.id, served_by) == (
                (challenger, "challenger") if to_new else (champion, "champion")
            )


def test_the_lead_score_endpoint_serves_each_lead_from_its_routed_model(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, champion, challenger = _tenant(database, settings, "api")
    deployed = send(
        client,
        user,
        "POST",
        f"/models/{challenger}/deploy",
        body={**AB, "aBTest": {**AB["aBTest"], "trafficSplit": 0.5}},
    )
    with database.tenant_session(user.tenant_id) as session:
        leads = [int(i) for i in session.scalars(sa.select(Lead.id).order_by(Lead.id))][:12]
    routed = dict(zip(leads, to_challenger(deployed["deploymentId"], 0.5, leads), strict=True))
    assert set(routed.values()) == {True, False}
    for lead, to_new in routed.items():
        response = client.get(f"{BASE}/leads/{lead}/score?refresh=true", headers=user.headers)
        assert response.status_code == 200, response.text
        with database.tenant_session(user.tenant_id) as session:
            stored = session.scalars(
                sa.select(Prediction)
                .where(Prediction.lead_id == lead, Prediction.status == "ACTIVE")
                .order_by(Prediction.id.desc())
            ).first()
            assert stored is not None
            assert (stored.model_version_id, stored.served_by) == (
                (challenger, "challenger") if to_new else (champion, "champion")
            )
