"""Judging expired predictions against what really happened, and the accuracy they add up to.

A prediction is judged once its validity has ended (whether it expired or a newer one
superseded it) and its outcome window has closed:

- CHURN, window (predicted_at, predicted_at + horizon]: the outcome is "churned" when the
  customer's churned_at falls inside it (known as soon as it happens) and "stayed" once the
  window has passed without one. The prediction was accurate when the model's decision at its
  threshold (probability >= threshold) matches. A customer that had already churned before the
  prediction, or whose churn has no date, cannot be judged: such predictions are marked
  validated with `was_accurate` left null and count nowhere.
- HEALTH_TREND: the actual score is the recorded overall score nearest to predicted_at +
  horizon within +/- 7 days (the training target's rule), known once the data's horizon has
  passed that window.
  Accurate when |predicted - actual| <= the configured tolerance (default 5 points). Without
  a recorded score in the window the prediction cannot be judged (as above).

Lead predictions (CONVERSION, TIME_TO_CLOSE) are judged in lead_validation.py.

`accuracy_report` adds, beyond the document, the Brier score and ROC AUC of the judged churn
predictions and the mean absolute error of the judged health forecasts.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, TypeVarTuple

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.features.health import TARGET_TOLERANCE_DAYS
from propensity.models import Customer, Event, HealthSnapshot, ModelVersion, Prediction
from propensity.predictions.service import expire_predictions
from propensity.webhooks import hooks as webhook_hooks

JUDGED_TYPES = ("CHURN", "HEALTH_TREND")
DEFAULT_HORIZON_DAYS = {"CHURN": 90, "HEALTH_TREND": 30, "CONVERSION": 90}
DEFAULT_THRESHOLD = 0.5

Columns = TypeVarTuple("Columns")


@dataclass(frozen=True)
class Judgement:
    was_accurate: bool | None
    actual_value: float | None


def aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def judge_churn(
    *,
    probability: float,
    threshold: float,
    predicted_at: datetime,
    horizon_days: int,
    churned_at: datetime | None,
    churned: bool | None,
    known_until: datetime,
) -> Judgement | None:
    """The judgement, or None while the outcome is still unknown."""
    return judge_outcome(
        probability=probability,
        threshold=threshold,
        predicted_at=predicted_at,
        end=predicted_at + timedelta(days=horizon_days),
        happened_at=churned_at,
        happened=churned,
        settled=False,
        known_until=known_until,
    )


def judge_outcome(
    *,
    probability: float,
    threshold: float,
    predicted_at: datetime,
    end: datetime,
    happened_at: datetime | None,
    happened: bool | None,
    settled: bool,
    known_until: datetime,
) -> Judgement | None:
    """A yes/no outcome predicted for the window (predicted_at, end]: "yes" when it happened
    inside it, "no" once the data covers the window or `settled` says it cannot happen any
    more. One that happened before the prediction, or without a date, cannot be judged."""
    if happened_at is not None:
        happened_at = aware(happened_at)
        if happened_at <= predicted_at:
            return Judgement(None, None)
        if happened_at <= end:
            return Judgement(probability >= threshold, 1.0)
    elif happened:
        return Judgement(None, None)
    if not settled and known_until < end:
        return None
    return Judgement(probability < threshold, 0.0)


def judge_health(
    *,
    predicted: float,
    target_day: date,
    scores: dict[date, float],
    tolerance_points: float,
    today: date,
) -> Judgement | None:
    if today < target_day + timedelta(days=TARGET_TOLERANCE_DAYS):
        return None
    window = [
        (abs((day - target_day).days), day, score)
        for day, score in scores.items()
        if abs((day - target_day).days) <= TARGET_TOLERANCE_DAYS
    ]
    if not window:
        return Judgement(None, None)
    _, _, actual = min(window)
    return Judgement(abs(predicted - actual) <= tolerance_points, float(actual))


def unjudged(
    query: sa.Select[*Columns], *, types: Sequence[str], now: datetime
) -> sa.Select[*Columns]:
    """`query` (predictions joined to their subject) narrowed to the predictions of `types`
    that are due for judging, with their model version's columns available."""
    return query.outerjoin(ModelVersion, ModelVersion.id == Prediction.model_version_id).where(
        Prediction.prediction_type.in_(types),
        Prediction.validated_at.is_(None),
        Prediction.valid_until <= now,
    )


def record_judgements(
    session: Session,
    judgements: Iterable[tuple[Prediction, Judgement | None]],
    *,
    scope: Literal["customers", "leads"],
    now: datetime,
) -> int:
    """Stores every judgement that is known (None: the outcome is not yet), flushes, tells the
    prediction.validated webhook and returns how many were stored."""
    judged = 0
    verdicts: list[tuple[str, bool | None]] = []  # for the prediction.validated webhook
    for prediction, verdict in judgements:
        if verdict is None:
            continue
        prediction.was_accurate = verdict.was_accurate
        prediction.actual_value = verdict.actual_value
        prediction.validated_at = now
        judged += 1
        verdicts.append((prediction.prediction_type, verdict.was_accurate))
    session.flush()
    webhook_hooks.predictions_validated(session, scope=scope, verdicts=verdicts, validated_at=now)
    return judged


def _candidates(session: Session, *, kind: str | None, now: datetime) -> list[Any]:
    query = unjudged(
        sa.select(
            Prediction,
            Customer.churned_at,
            Customer.churned,
            ModelVersion.horizon_days,
            ModelVersion.threshold,
        ).join(Customer, Customer.id == Prediction.customer_id),
        types=JUDGED_TYPES,
        now=now,
    )
    if kind is not None:
        query = query.where(Customer.kind == kind)
    return list(session.execute(query).all())


def data_horizon(session: Session, *, kind: str | None, now: datetime) -> datetime:
    """The latest customer event or health snapshot recorded (of this kind), capped at now."""
    events = sa.select(sa.func.max(Event.occurred_at)).join(
        Customer, Customer.id == Event.customer_id
    )
    health = sa.select(sa.func.max(HealthSnapshot.snapshot_date)).join(
        Customer, Customer.id == HealthSnapshot.customer_id
    )
    if kind is not None:
        events = events.where(Customer.kind == kind)
        health = health.where(Customer.kind == kind)
    latest: list[datetime] = []
    last_event = session.scalar(events)
    if last_event is not None:
        latest.append(aware(last_event))
    last_health = session.scalar(health)
    if last_health is not None:
        latest.append(datetime.combine(last_health, datetime.min.time(), tzinfo=UTC))
    return min(now, max(latest)) if latest else now


def _health_scores(
    session: Session, customer_ids: list[int], start: date, end: date
) -> dict[int, dict[date, float]]:
    out: dict[int, dict[date, float]] = defaultdict(dict)
    for chunk in range(0, len(customer_ids), 1000):
        rows = session.execute(
            sa.select(
                HealthSnapshot.customer_id,
                HealthSnapshot.snapshot_date,
                HealthSnapshot.overall_score,
            ).where(
                HealthSnapshot.customer_id.in_(customer_ids[chunk : chunk + 1000]),
                HealthSnapshot.snapshot_date.between(start, end),
            )
        ).all()
        for customer_id, day, score in rows:
            out[int(customer_id)][day] = float(score)
    return out


def validate_expired(
    session: Session, *, now: datetime, tolerance_points: float, kind: str | None = None
) -> int:
    """Judges every prediction whose validity has ended and whose outcome is known; returns
    how many were judged (including those that turned out impossible to judge). Flushes."""
    expire_predictions(session, now=now)
    candidates = _candidates(session, kind=kind, now=now)
    if not candidates:
        return 0
    known_until = data_horizon(session, kind=kind, now=now)
    health_rows = [c for c in candidates if c[0].prediction_type == "HEALTH_TREND"]
    scores: dict[int, dict[date, float]] = {}
    if health_rows:
        targets = [
            (c[0].predicted_at + timedelta(days=c[3] or DEFAULT_HORIZON_DAYS["HEALTH_TREND"]))
            for c in health_rows
        ]
        margin = timedelta(days=TARGET_TOLERANCE_DAYS)
        scores = _health_scores(
            session,
            sorted({int(c[0].customer_id) for c in health_rows}),
            (min(targets) - margin).date(),
            (max(targets) + margin).date(),
        )

    def verdict(
        prediction: Prediction,
        churned_at: datetime | None,
        churned: bool | None,
        horizon: int | None,
        threshold: float | None,
    ) -> Judgement | None:
        horizon_days = int(horizon or DEFAULT_HORIZON_DAYS[prediction.prediction_type])
        if prediction.prediction_type == "CHURN":
            if prediction.probability is None:
                return Judgement(None, None)
            return judge_churn(
                probability=float(prediction.probability),
                threshold=float(threshold if threshold is not None else DEFAULT_THRESHOLD),
                predicted_at=prediction.predicted_at,
                horizon_days=horizon_days,
                churned_at=churned_at,
                churned=churned,
                known_until=known_until,
            )
        if prediction.predicted_value is None:
            return Judgement(None, None)
        return judge_health(
            predicted=float(prediction.predicted_value),
            target_day=(prediction.predicted_at + timedelta(days=horizon_days)).date(),
            scores=scores.get(int(prediction.customer_id or 0), {}),
            tolerance_points=tolerance_points,
            today=known_until.date(),
        )

    return record_judgements(
        session,
        ((candidate[0], verdict(*candidate)) for candidate in candidates),
        scope="customers",
        now=now,
    )


def _auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """Mann-Whitney AUC with average ranks for ties; None without both classes."""
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    rank_sum = float(ranks[labels == 1].sum())
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def _rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None or math.isnan(value) else round(value, digits)


def accuracy_report(
    session: Session, *, prediction_type: str | None = None, kind: str | None = None
) -> dict[str, Any]:
    types = (prediction_type,) if prediction_type else JUDGED_TYPES
    base = (
        sa.select(
            Prediction.prediction_type,
            Prediction.was_accurate,
            Prediction.probability,
            Prediction.predicted_value,
            Prediction.actual_value,
        )
        .join(Customer, Customer.id == Prediction.customer_id)
        .where(Prediction.prediction_type.in_(types))
    )
    total_query = (
        sa.select(sa.func.count(Prediction.id))
        .join(Customer, Customer.id == Prediction.customer_id)
        .where(Prediction.prediction_type.in_(types))
    )
    if kind is not None:
        base = base.where(Customer.kind == kind)
        total_query = total_query.where(Customer.kind == kind)
    total = int(session.scalar(total_query) or 0)
    rows = session.execute(base.where(Prediction.was_accurate.is_not(None))).all()
    by_type: dict[str, dict[str, Any]] = {}
    for ptype in types:
        judged = [r for r in rows if r[0] == ptype]
        entry: dict[str, Any] = {
            "total": len(judged),
            "accurate": sum(1 for r in judged if r[1]),
        }
        if ptype == "CHURN":
            pairs = [(r[2], r[4]) for r in judged if r[2] is not None and r[4] is not None]
            probs = np.array([float(p) for p, _ in pairs])
            actual = np.array([float(a) for _, a in pairs])
            entry["brierScore"] = (
                _rounded(float(np.mean((probs - actual) ** 2))) if len(probs) else None
            )
            entry["auc"] = _rounded(_auc(probs, actual.astype(int))) if len(probs) else None
            entry["observedChurnRate"] = _rounded(float(actual.mean())) if len(actual) else None
            entry["meanPredictedProbability"] = (
                _rounded(float(probs.mean())) if len(probs) else None
            )
        else:
            errors = [
                abs(float(r[3]) - float(r[4]))
                for r in judged
                if r[3] is not None and r[4] is not None
            ]
            entry["meanAbsoluteError"] = _rounded(float(np.mean(errors)), 2) if errors else None
        by_type[ptype] = entry
    validated = len(rows)
    accurate = sum(1 for r in rows if r[1])
    return {
        "totalPredictions": total,
        "validatedCount": validated,
        "accurateCount": accurate,
        "accuracy": round(accurate / validated, 4) if validated else None,
        "byType": by_type,
    }
