"""Model comparison on one holdout: every compared model is scored on the same rows.

The holdout is rebuilt with the training code path: `build_training_set` for the models'
prediction type (the newest compared model's seed and the training row cap), then the training
split (`holdout_split`: the newest 20% of rows by snapshot time, or a stratified split for data
without dates). A model trained on today's data had exactly these rows as its test split, so its
metrics here equal its stored held-out metrics; an older model is judged on data newer than it.

Quality metrics (accuracy, precision, recall, f1 at each model's own threshold; ROC-AUC) need
outcomes, so only binary prediction types (CHURN, CONVERSION) compare; `latency` is the mean
latency recorded with each model's predictions over the period (null when it made none).

Recommendation: the model with the lowest holdout log-loss (a proper scoring rule: it judges the
calibrated probabilities every other output derives from). Its confidence is the share of
`BOOTSTRAP` resamples of the holdout rows in which it still has the lowest log-loss; the
resampling uses a fixed seed so the same data always gives the same answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from propensity.errors import InvalidInput
from propensity.features import build_training_set
from propensity.features.training import DEFAULT_MAX_ROWS
from propensity.modeling import BinaryModel
from propensity.modeling.encoding import timestamps_ns
from propensity.modeling.metrics import binary_metrics, log_loss
from propensity.modeling.splits import DEFAULT_TEST_FRACTION, holdout_split
from propensity.models import ModelVersion
from propensity.monitoring import performance as perf
from propensity.monitoring.service import load_version_model

QUALITY = ("accuracy", "precision", "recall", "f1", "auc")
METRICS = (*QUALITY, "latency")
DEFAULT_METRICS = ("accuracy", "precision", "recall", "latency")
BINARY_TYPES = ("CHURN", "CONVERSION")
BOOTSTRAP = 200
BOOTSTRAP_SEED = 0


@dataclass(frozen=True, kw_only=True)
class Holdout:
    frame: pd.DataFrame
    labels: np.ndarray
    split: str
    seed: int


def comparison_holdout(session: Session, *, version: ModelVersion) -> Holdout:
    seed = int((version.training_config or {}).get("seed") or 0)
    kind = None if version.population == "lead" else version.population
    training = build_training_set(
        session,
        prediction_type=version.prediction_type,
        kind=kind,
        seed=seed,
        max_rows=DEFAULT_MAX_ROWS,
    )
    assert training.labels is not None
    labels = pd.Series(np.asarray(training.labels, dtype=object))
    keep = labels.notna().to_numpy()
    y = np.asarray([float(v) for v in labels[keep].tolist()], dtype=np.float64)
    stamps = None
    if training.mode == "point_in_time":
        stamps = timestamps_ns(pd.Series(training.snapshot_times).reset_index(drop=True))[keep]
    split = holdout_split(
        n_rows=len(y),
        strata=y,
        times_ns=stamps,
        test_fraction=DEFAULT_TEST_FRACTION,
        seed=seed,
    )
    frame = training.frame.reset_index(drop=True).iloc[np.flatnonzero(keep)]
    return Holdout(
        frame=frame.iloc[split.test].reset_index(drop=True),
        labels=y[split.test],
        split=split.method,
        seed=seed,
    )


def check_metrics(wanted: Sequence[str], *, allowed: Sequence[str]) -> None:
    """The 400 for a `metrics` list naming metrics outside `allowed` (the comparison's and the
    performance endpoint's lists differ; the rule and the error do not)."""
    unknown = [m for m in wanted if m not in allowed]
    if unknown:
        raise InvalidInput(
            f"Unknown metrics: {', '.join(unknown)}; choose from {', '.join(allowed)}",
            code="VALIDATION_ERROR",
            details={"field": "metrics", "invalid": unknown, "allowed": list(allowed)},
        )


def parse_metrics(value: list[str]) -> list[str]:
    wanted = value or list(DEFAULT_METRICS)
    check_metrics(wanted, allowed=METRICS)
    return list(dict.fromkeys(wanted))


def _check_comparable(versions: list[ModelVersion]) -> None:
    if len(versions) < 2:
        raise InvalidInput(
            "modelIds needs at least two model ids to compare, e.g. modelIds=3,5",
            code="VALIDATION_ERROR",
            details={"field": "modelIds"},
        )
    kinds = {(v.prediction_type, v.population) for v in versions}
    if len(kinds) > 1:
        raise InvalidInput(
            "Models compare only on one holdout of one prediction type and population; got "
            + ", ".join(f"{t}/{p}" for t, p in sorted(kinds)),
            code="MODELS_NOT_COMPARABLE",
            details={"modelIds": [str(v.id) for v in versions]},
        )
    ptype = versions[0].prediction_type
    if ptype not in BINARY_TYPES:
        raise InvalidInput(
            f"Holdout comparison needs yes/no outcomes; {ptype} models are not compared",
            code="MODELS_NOT_COMPARABLE",
            details={"predictionType": ptype, "supported": list(BINARY_TYPES)},
        )
    missing = [str(v.id) for v in versions if not v.artifact_hash]
    if missing:
        raise InvalidInput(
            "Only trained models compare; these have no trained artifact: " + ", ".join(missing),
            code="MODEL_NOT_READY",
            details={"modelIds": missing},
        )


def _winner(values: dict[int, float | None], *, lower_is_better: bool) -> dict[str, Any]:
    known = {k: v for k, v in values.items() if v is not None}
    out: dict[str, Any] = {str(k): v for k, v in values.items()}
    if len(known) < 2 or len(known) < len(values):
        return {**out, "difference": None, "winner": None}
    ranked = sorted(known.items(), key=lambda kv: kv[1], reverse=not lower_is_better)
    gap = abs(ranked[0][1] - ranked[1][1])
    return {
        **out,
        "difference": round(gap, 6),
        "winner": ranked[0][0] if gap > 0 else None,
    }


def compare_models(
    session: Session,
    *,
    versions: list[ModelVersion],
    metrics: list[str],
    period: str,
    now: datetime,
) -> dict[str, Any]:
    _check_comparable(versions)
    wanted = parse_metrics(metrics)
    name, length = perf.parse_period(period)
    newest = max(versions, key=lambda v: (v.trained_at or v.created_at, v.id))
    holdout = comparison_holdout(session, version=newest)
    if len(holdout.labels) == 0:
        raise InvalidInput("The holdout is empty: there is too little labelled data to compare")
    probabilities: dict[int, np.ndarray] = {}
    quality: dict[int, dict[str, Any]] = {}
    for version in versions:
        model = load_version_model(session, version=version)
        assert isinstance(model, BinaryModel)
        p = np.asarray(model.predict_proba(holdout.frame), dtype=np.float64)
        probabilities[version.id] = p
        quality[version.id] = binary_metrics(p, holdout.labels, threshold=model.threshold)
    table: dict[str, Any] = {}
    for metric in wanted:
        if metric == "latency":
            latency = {
                v.id: perf.latency_in(
                    session, version_ids=[v.id], start=now - length, end=now
                ).average
                for v in versions
            }
            table[metric] = _winner(latency, lower_is_better=True)
            continue
        key = "roc_auc" if metric == "auc" else metric
        values = {
            vid: round(float(v), 6) if isinstance((v := q.get(key)), int | float) else None
            for vid, q in quality.items()
        }
        table[metric] = _winner(values, lower_is_better=False)
    recommended, confidence, losses = _recommend(probabilities, holdout.labels)
    wins = [m for m, entry in table.items() if entry.get("winner") == recommended]
    reason = f"Lowest log-loss on the shared holdout ({losses[recommended]:.4f})"
    if wins:
        reason += f"; best {', '.join(wins)}"
    return {
        "comparison": {
            "models": [v.id for v in versions],
            "metrics": table,
            "holdout": {
                "rows": len(holdout.labels),
                "positives": int(holdout.labels.sum()),
                "split": holdout.split,
                "seed": holdout.seed,
                "logLoss": {str(k): round(v, 6) for k, v in losses.items()},
            },
            "period": name,
        },
        "recommendations": [
            {
                "type": "deployment",
                "model": recommended,
                "reason": reason,
                "confidence": round(confidence, 4),
            }
        ],
    }


def _recommend(
    probabilities: dict[int, np.ndarray], labels: np.ndarray
) -> tuple[int, float, dict[int, float]]:
    losses = {k: log_loss(p, labels) for k, p in probabilities.items()}
    best = min(losses, key=lambda k: (losses[k], k))
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    wins = 0
    n = len(labels)
    for _ in range(BOOTSTRAP):
        rows = rng.integers(0, n, size=n)
        resampled = {k: log_loss(p[rows], labels[rows]) for k, p in probabilities.items()}
        wins += int(min(resampled, key=lambda k: (resampled[k], k)) == best)
    return best, wins / BOOTSTRAP, losses
