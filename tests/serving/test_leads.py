"""serving/leads.py: the rule-based CONVERSION and the SCORE are served from what is stored by
the one validity rule (serving.find_valid), and a lead's CONVERSION made by any path (one
lead, the bulk request, the core) is the cached answer of every other path."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.crm.lookup import find_lead
from propensity.db import Database, Session, utcnow
from propensity.errors import Unavailable
from propensity.models import Lead, Prediction
from propensity.predictions.lead_scores import lead_score
from propensity.serving import RULES, current, serve
from propensity.serving.leads import LEAD, serve_conversion, serve_conversions, serve_score
from propensity.settings import Settings
from propensity.training.service import train_prediction_type
from propensity.vocabulary import PredictionType
from tests.factories import make_simulated_tenant
from tests.surfaces.lead_ml.helpers import LEADS, call, lead_tenant, open_lead_ids

CONVERSION = PredictionType.CONVERSION


def _lead(session: Session, lead_id: int) -> Lead:
    lead = find_lead(session, lead_id=lead_id)
    assert lead is not None
    return lead


def _rows(session: Session, lead_id: int, prediction_type: PredictionType) -> list[Prediction]:
    return list(
        session.scalars(
            sa.select(Prediction)
            .where(Prediction.lead_id == lead_id, Prediction.prediction_type == prediction_type)
            .order_by(Prediction.id)
        )
    )


def test_rule_based_answers_are_cached_by_the_one_rule(
    database: Database, settings: Settings
) -> None:
    user, _ = lead_tenant(database, settings, slug="rules", leads=120, train=False)
    first_id, second_id = open_lead_ids(database, user.tenant_id)[:2]
    now = utcnow()
    spent: list[int] = []
    with database.request_session(user.tenant_id) as session:
        lead, other = _lead(session, first_id), _lead(session, second_id)
        made = serve_conversion(
            session, lead=lead, now=now, settings=settings, rule_based=True, spend=spent.append
        )
        assert not made.cached and made.model is None and made.role == RULES
        stored = made.prediction
        assert stored.model_version_id is None and stored.served_by == RULES
        assert stored.outputs["method"] == "rule_based"
        assert stored.outputs["threshold"] == 0.5 and stored.explanation

        # Second call: the stored answer, no new row and nothing spent.
        again = serve_conversion(
            session,
            lead=lead,
            now=now + timedelta(minutes=5),
            settings=settings,
            rule_based=True,
            spend=spent.append,
        )
        assert again.cached and again.prediction.id == stored.id
        assert spent == [1]
        assert [p.id for p in _rows(session, lead.id, CONVERSION)] == [stored.id]

        # The many-lead form asks the same rule: only the other lead is scored.
        answers = serve_conversions(
            session, leads=[lead, other], now=now, settings=settings, rule_based=True
        )
        assert answers.served[lead.id].prediction.id == stored.id
        assert answers.served[lead.id].cached and not answers.served[other.id].cached
        assert (answers.cached, answers.fresh) == (1, 1)
        assert len(_rows(session, lead.id, CONVERSION)) == 1

        # Past its validity it is no longer the answer: a new one supersedes it.
        later = now + timedelta(hours=settings.lead_prediction_validity_hours, seconds=1)
        renewed = serve_conversion(
            session, lead=lead, now=later, settings=settings, rule_based=True
        )
        assert not renewed.cached and renewed.prediction.id != stored.id
        session.refresh(stored)
        assert stored.status == "SUPERSEDED"

        # Without a trained model only the rule-based scorer answers.
        with pytest.raises(Unavailable) as refused:
            serve_conversion(session, lead=lead, now=now, settings=settings)
        assert refused.value.code == "MODEL_UNAVAILABLE"
        with pytest.raises(Unavailable):
            serve_score(session, lead=lead, now=now, settings=settings)


def test_a_score_is_cached_while_made_from_the_model_serving_the_conversion(
    database: Database, settings: Settings
) -> None:
    user = make_simulated_tenant(database, settings, slug="scores", leads=LEADS)
    first = train_prediction_type(database, tenant_id=user.tenant_id, prediction_type="CONVERSION")
    lead_id = open_lead_ids(database, user.tenant_id)[0]
    now = utcnow()
    spent: list[int] = []
    with database.request_session(user.tenant_id) as session:
        lead = _lead(session, lead_id)
        # A rule-based conversion is not the model's: the score derives from a fresh one.
        serve_conversion(session, lead=lead, now=now, settings=settings, rule_based=True)
        score = serve_score(session, lead=lead, now=now, settings=settings, spend=spent.append)
        assert not score.cached and spent == [1]
        stored = score.prediction
        assert stored.prediction_type == PredictionType.SCORE
        assert stored.model_version_id == first.version_id and stored.served_by == "champion"
        conversion = serve(
            session,
            prediction_type=CONVERSION,
            population=LEAD,
            entity_id=lead.id,
            now=now,
            settings=settings,
        )
        assert conversion.cached
        assert stored.outputs["conversionPredictionId"] == conversion.prediction.id
        assert stored.predicted_value == lead_score(float(conversion.prediction.probability or 0))
        assert sum(stored.outputs["scoreBreakdown"].values()) == stored.predicted_value

        # Second call: the stored score, no new row of either type, nothing spent.
        again = serve_score(
            session,
            lead=lead,
            now=now + timedelta(minutes=5),
            settings=settings,
            spend=spent.append,
        )
        assert again.cached and again.prediction.id == stored.id and spent == [1]
        assert [p.id for p in _rows(session, lead.id, PredictionType.SCORE)] == [stored.id]
        assert len(_rows(session, lead.id, CONVERSION)) == 2  # the rule-based one, superseded
        stored_id = stored.id

    # Another model now serves the lead's conversion: the stored score is not its answer.
    second = train_prediction_type(
        database, tenant_id=user.tenant_id, prediction_type="CONVERSION", seed=1
    )
    with database.request_session(user.tenant_id) as session:
        lead = _lead(session, lead_id)
        rescored = serve_score(session, lead=lead, now=now, settings=settings)
        assert not rescored.cached and rescored.prediction.id != stored_id
        assert rescored.prediction.model_version_id == second.version_id
        assert len(_rows(session, lead.id, PredictionType.SCORE)) == 2


def test_a_conversion_made_by_one_path_is_the_answer_of_the_others(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, config = lead_tenant(database, settings, slug="onepath")
    first, second = open_lead_ids(database, user.tenant_id)[:2]

    made = call(client, user, "POST", f"/leads/{first}/ml/predict", json={})["prediction"]
    assert made["cached"] is False
    again = call(client, user, "POST", f"/leads/{first}/ml/predict", json={})["prediction"]
    assert again["cached"] is True and again["predictionId"] == made["predictionId"]
    latest = call(client, user, "GET", f"/leads/{first}/ml/prediction")
    assert latest["id"] == made["predictionId"]

    # The bulk path answers the first lead from it and scores only the second.
    bulk = call(client, user, "POST", f"/{config}/ml/bulk-predict", json={"limit": 2})
    results = {p["leadId"]: p["result"] for p in bulk["predictions"]}
    assert list(results) == [first, second]
    assert results[first]["cached"] is True
    assert results[first]["predictionId"] == made["predictionId"]
    assert results[first]["predictedDays"] == made["predictedDays"]
    assert results[second]["cached"] is False
    assert (bulk["cached"], bulk["scored"]) == (1, 1)

    # And the bulk's answer for the second lead is the single-lead path's.
    single = call(client, user, "POST", f"/leads/{second}/ml/predict", json={})["prediction"]
    assert single["cached"] is True
    assert single["predictionId"] == results[second]["predictionId"]

    # Ranked reads rank the same predictions, and the core reads them as the answer.
    ranked = call(client, user, "GET", f"/{config}/ml/ranked-leads", params={"useLLM": False})
    assert {r["leadId"]: r["predictionId"] for r in ranked["rankings"]} == {
        first: made["predictionId"],
        second: single["predictionId"],
    }
    with database.request_session(user.tenant_id) as session:
        for lead_id, prediction_id in (
            (first, made["predictionId"]),
            (second, single["predictionId"]),
        ):
            answer = current(
                session,
                prediction_type=CONVERSION,
                population=LEAD,
                entity_id=lead_id,
                now=utcnow(),
            )
            assert answer is not None and answer.prediction.id == prediction_id
            assert len(_rows(session, lead_id, CONVERSION)) == 1
