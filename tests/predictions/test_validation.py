"""The rules that judge an expired prediction against what happened."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
from sklearn.metrics import roc_auc_score

from propensity.predictions.validation import Judgement, _auc, judge_churn, judge_health

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
