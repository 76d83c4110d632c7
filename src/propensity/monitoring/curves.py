"""A binary model's ROC curve and reliability diagram, and its accuracy against real outcomes
over time: the model page's charts.

Curves come from one of two sources, and say which (`Curves.source`):
* "held-out": stored at training time from the held-out test split (modeling/curves.py), the
  very rows behind the stored `roc_auc` and `ece` metrics;
* "validated": for a version trained before curves were stored, its own predictions whose
  outcome is now known (`actual_value` 0 or 1, recorded by validation), when there are at
  least MIN_VALIDATED of them with both outcomes. These measure the model in production,
  not on its test split, and the page says so.
Without either, there is no curve (None): nothing is drawn that was not measured.

Accuracy over time buckets the version's validated predictions by the week they were made
(`predicted_at`, weeks counted back from the newest), not by when they were judged: the demo's
history is judged in one run, and what matters is how predictions made at a time turned out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.modeling.curves import binary_curves, ece_of
from propensity.models import ModelVersion, Prediction

HELD_OUT = "held-out"
VALIDATED = "validated"
MIN_VALIDATED = 30
# A page draws a few years of weekly points at most.
MAX_VALIDATED_ROWS = 200_000
WEEK = timedelta(days=7)


@dataclass(frozen=True, kw_only=True)
class Curves:
    source: str  # HELD_OUT or VALIDATED
    evaluated_on: str
    rows: int
    positives: int
    roc_auc: float | None
    ece: float | None
    roc: list[dict[str, float]]
    reliability: list[dict[str, Any]]


def _stored(version: ModelVersion) -> Curves | None:
    stored = ((version.training_summary or {}).get("model") or {}).get("curves")
    if not isinstance(stored, dict) or not stored.get("reliability"):
        return None
    metrics = version.metrics or {}
    ece = metrics.get("ece")
    return Curves(
        source=HELD_OUT,
        evaluated_on=str(stored.get("evaluated_on") or metrics.get("evaluated_on") or ""),
        rows=int(stored.get("rows") or 0),
        positives=int(stored.get("positives") or 0),
        roc_auc=stored.get("roc_auc"),
        ece=float(ece) if isinstance(ece, int | float) else ece_of(stored["reliability"]),
        roc=list(stored.get("roc") or []),
        reliability=list(stored["reliability"]),
    )


def _validated_pairs(session: Session, *, version_id: int) -> tuple[np.ndarray, np.ndarray]:
    rows = session.execute(
        sa.select(Prediction.probability, Prediction.actual_value)
        .where(
            Prediction.model_version_id == version_id,
            Prediction.was_accurate.is_not(None),
            Prediction.probability.is_not(None),
            Prediction.actual_value.in_((0.0, 1.0)),
        )
        .limit(MAX_VALIDATED_ROWS)
    ).all()
    pairs = [(float(p), float(a)) for p, a in rows if p is not None and a is not None]
    probability = np.asarray([p for p, _ in pairs], dtype=np.float64)
    outcome = np.asarray([a for _, a in pairs], dtype=np.float64)
    return probability, outcome


def model_curves(session: Session, *, version: ModelVersion) -> Curves | None:
    """The version's curves (module doc); None for a model without a probability (regression,
    survival) or without anything measured to draw them from."""
    if version.threshold is None:
        return None
    stored = _stored(version)
    if stored is not None:
        return stored
    probability, outcome = _validated_pairs(session, version_id=version.id)
    if len(outcome) < MIN_VALIDATED or len(np.unique(outcome)) < 2:
        return None
    drawn = binary_curves(
        probability, outcome, evaluated_on=f"{len(outcome)} validated predictions"
    )
    return Curves(
        source=VALIDATED,
        evaluated_on=str(drawn["evaluated_on"]),
        rows=int(drawn["rows"]),
        positives=int(drawn["positives"]),
        roc_auc=drawn["roc_auc"],
        ece=ece_of(drawn["reliability"]),
        roc=drawn["roc"],
        reliability=drawn["reliability"],
    )


@dataclass(frozen=True, kw_only=True)
class AccuracyPoint:
    week_end: datetime  # the week covers the 7 days up to this moment
    validated: int
    accurate: int
    mean_predicted: float | None  # binary models: mean probability of the week's predictions
    observed_rate: float | None  # binary models: share that turned out positive

    @property
    def accuracy(self) -> float:
        return self.accurate / self.validated


def accuracy_over_time(session: Session, *, version: ModelVersion) -> list[AccuracyPoint]:
    """The version's validated predictions per week of prediction, oldest first (module doc);
    weeks without any are left out."""
    rows = session.execute(
        sa.select(
            Prediction.predicted_at,
            Prediction.was_accurate,
            Prediction.probability,
            Prediction.actual_value,
        )
        .where(Prediction.model_version_id == version.id, Prediction.was_accurate.is_not(None))
        .order_by(Prediction.predicted_at.desc())
        .limit(MAX_VALIDATED_ROWS)
    ).all()
    if not rows:
        return []
    newest = rows[0][0]
    binary = version.threshold is not None
    weeks: dict[int, list[Any]] = {}
    for predicted_at, accurate, probability, actual in rows:
        weeks.setdefault((newest - predicted_at) // WEEK, []).append(
            (accurate, probability, actual)
        )
    points = []
    for back in sorted(weeks, reverse=True):
        items = weeks[back]
        pairs = [(float(p), float(a)) for _, p, a in items if p is not None and a in (0.0, 1.0)]
        points.append(
            AccuracyPoint(
                week_end=newest - back * WEEK,
                validated=len(items),
                accurate=sum(1 for ok, _, _ in items if ok),
                mean_predicted=float(np.mean([p for p, _ in pairs])) if binary and pairs else None,
                observed_rate=float(np.mean([a for _, a in pairs])) if binary and pairs else None,
            )
        )
    return points
