"""The rules that judge an expired prediction against what happened."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
from sklearn.metrics import roc_auc_score

from propensity.db import Database
from propensity.models import Lead, Prediction
from propensity.predictions.lead_validation import (
    judge_conversion,
    judge_time_to_close,
    validate_expired_leads,
)
from propensity.predictions.validation import Judgement, _auc, judge_churn, judge_health
from propensity.settings import Settings
from tests.factories import make_tenant_user

AT = datetime(2026, 1, 1, tzinfo=UTC)


def _churn(p: float, churned_at: datetime | None, known_until: datetime) -> Judgement | None:
    return judge_churn(
        probability=p,
        threshold=0.4,
        predicted_at=AT,
        horizon_days=90,
        churned_at=churned_at,
        churned=churned_at is not None,
        known_until=known_until,
    )


def test_churn_inside_the_window_is_known_at_once_and_judged_at_the_threshold() -> None:
    inside = AT + timedelta(days=30)
    assert _churn(0.7, inside, known_until=inside) == Judgement(True, 1.0)
    assert _churn(0.3, inside, known_until=inside) == Judgement(False, 1.0)
    assert _churn(0.4, inside, known_until=inside) == Judgement(True, 1.0)  # >= threshold


def test_staying_is_known_only_once_the_data_covers_the_whole_window() -> None:
    end = AT + timedelta(days=90)
    assert _churn(0.1, None, known_until=end - timedelta(days=1)) is None
    assert _churn(0.1, None, known_until=end) == Judgement(True, 0.0)
    assert _churn(0.9, None, known_until=end) == Judgement(False, 0.0)
    # A churn after the window means the customer stayed through it.
    later = end + timedelta(days=5)
    assert _churn(0.9, later, known_until=later) == Judgement(False, 0.0)


def test_customers_gone_before_the_prediction_or_without_a_date_cannot_be_judged() -> None:
    before = AT - timedelta(days=1)
    assert _churn(0.9, before, known_until=AT + timedelta(days=200)) == Judgement(None, None)
    undated = judge_churn(
        probability=0.9,
        threshold=0.5,
        predicted_at=AT,
        horizon_days=90,
        churned_at=None,
        churned=True,
        known_until=AT + timedelta(days=200),
    )
    assert undated == Judgement(None, None)


def test_health_uses_the_recorded_score_nearest_the_target_within_a_week() -> None:
    target = date(2026, 2, 1)
    scores = {date(2026, 1, 20): 80.0, date(2026, 2, 3): 61.0, date(2026, 2, 6): 50.0}
    early = judge_health(
        predicted=64.0, target_day=target, scores=scores, tolerance_points=5, today=target
    )
    assert early is None
    done = target + timedelta(days=7)
    assert judge_health(
        predicted=64.0, target_day=target, scores=scores, tolerance_points=5, today=done
    ) == Judgement(True, 61.0)
    assert judge_health(
        predicted=70.0, target_day=target, scores=scores, tolerance_points=5, today=done
    ) == Judgement(False, 61.0)
    assert judge_health(
        predicted=70.0, target_day=target, scores={}, tolerance_points=5, today=done
    ) == Judgement(None, None)


def test_auc_matches_scikit_learn_with_ties() -> None:
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 300)
    scores = np.round(rng.random(300) * 0.5 + labels * 0.2, 2)  # rounded: many ties
    assert abs((_auc(scores, labels) or 0) - roc_auc_score(labels, scores)) < 1e-12
    assert _auc(scores, np.zeros(300, dtype=int)) is None


def _conversion(
    p: float,
    *,
    converted_at: datetime | None = None,
    converted: bool | None = None,
    lost_at: datetime | None = None,
    known_until: datetime,
) -> Judgement | None:
    return judge_conversion(
        probability=p,
        threshold=0.3,
        predicted_at=AT,
        horizon_days=90,
        converted_at=converted_at,
        converted=converted,
        lost_at=lost_at,
        known_until=known_until,
    )


def test_conversion_is_judged_at_the_threshold_once_the_outcome_is_known() -> None:
    inside = AT + timedelta(days=10)
    end = AT + timedelta(days=90)
    assert _conversion(0.6, converted_at=inside, known_until=inside) == Judgement(True, 1.0)
    assert _conversion(0.1, converted_at=inside, known_until=inside) == Judgement(False, 1.0)
    # Open leads wait for the window to pass; a loss inside it is known at once.
    assert _conversion(0.1, known_until=end - timedelta(days=1)) is None
    assert _conversion(0.1, known_until=end) == Judgement(True, 0.0)
    assert _conversion(0.6, lost_at=inside, known_until=inside) == Judgement(False, 0.0)
    # Converted after the window: it did not convert within it.
    late = end + timedelta(days=3)
    assert _conversion(0.6, converted_at=late, known_until=late) == Judgement(False, 0.0)
    # Converted before the prediction, or without a date: cannot be judged.
    before = AT - timedelta(days=1)
    assert _conversion(0.6, converted_at=before, known_until=end) == Judgement(None, None)
    assert _conversion(0.6, converted=True, known_until=end) == Judgement(None, None)


def test_time_to_close_is_accurate_inside_the_p10_p90_interval() -> None:
    def judge(
        converted_at: datetime | None, known_until: datetime, lost_at: datetime | None = None
    ) -> Judgement | None:
        return judge_time_to_close(
            p10_days=10,
            p90_days=40,
            predicted_at=AT,
            converted_at=converted_at,
            known_until=known_until,
            lost_at=lost_at,
        )

    day = timedelta(days=1)
    assert judge(AT + 20 * day, AT + 20 * day) == Judgement(True, 20.0)
    assert judge(AT + 5 * day, AT + 5 * day) == Judgement(False, 5.0)
    assert judge(AT + 50 * day, AT + 50 * day) == Judgement(False, 50.0)
    # The interval is of the time to close of a lead that closes (ADR 0017). Still open past
    # p90, it may close yet (then outside the interval); lost, or open a year on, it is not a
    # closing and cannot be judged.
    assert judge(None, AT + 39 * day) is None
    assert judge(None, AT + 41 * day) is None
    assert judge(None, AT + 366 * day) == Judgement(None, None)
    assert judge(None, AT + 41 * day, lost_at=AT + 30 * day) == Judgement(None, None)
    assert judge(None, AT + 29 * day, lost_at=AT + 30 * day) is None  # not known yet
    assert judge(AT - day, AT + 41 * day) == Judgement(None, None)


def test_expired_lead_predictions_are_judged_against_the_leads(
    database: Database, settings: Settings
) -> None:
    user = make_tenant_user(database, settings)
    predicted_at = datetime(2026, 1, 1, tzinfo=UTC)
    now = predicted_at + timedelta(days=200)
    with database.tenant_session(user.tenant_id) as session:
        won = Lead(external_id="won", converted_at=predicted_at + timedelta(days=20))
        still_open = Lead(external_id="open")
        session.add_all([won, still_open])
        session.flush()

        def prediction(lead: Lead, kind: str, **fields: object) -> Prediction:
            row = Prediction(
                tenant_id=user.tenant_id,
                prediction_type=kind,
                lead_id=lead.id,
                predicted_at=predicted_at,
                valid_until=predicted_at + timedelta(days=1),
                status="ACTIVE",
                **fields,
            )
            session.add(row)
            return row

        hot = prediction(won, "CONVERSION", probability=0.7, outputs={"threshold": 0.5})
        timed = prediction(
            won, "TIME_TO_CLOSE", predicted_value=25.0, outputs={"p10Days": 10, "p90Days": 30}
        )
        cold = prediction(still_open, "CONVERSION", probability=0.1, outputs={})
        slow = prediction(
            still_open,
            "TIME_TO_CLOSE",
            predicted_value=500.0,
            outputs={"p10Days": 300, "p90Days": 900},
        )
        session.flush()
        # The data reach the conversion but not the open lead's 90 days: only the won
        # lead's predictions can be judged.
        assert validate_expired_leads(session, now=now) == 2
        assert (hot.was_accurate, hot.actual_value) == (True, 1.0)
        assert (timed.was_accurate, timed.actual_value) == (True, 20.0)
        assert cold.validated_at is None and slow.validated_at is None
        session.refresh(cold)
        assert cold.status == "EXPIRED"
