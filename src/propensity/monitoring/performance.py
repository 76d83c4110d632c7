"""Live performance of one model version over a period, and alerts derived from thresholds.

Sources, all of the tenant's own records:
* predictionCount, latency, throughput: the model's predictions with `predicted_at` in the period.
  Latency percentiles use the timings recorded with every prediction (`latency_ms`: a request's
  measured scoring time, a batch row's share of its batch's time), null when none was made.
  Throughput is predictions per minute averaged over the period.
* errorRate: scoring jobs (`score_portfolio`, which batch scoring enqueues too) for the model's
  prediction type that finished in the period: failed / finished. Null when none finished:
  nothing else records scoring errors.
* accuracy, precision, recall: the model's predictions validated in the period (`validated_at`);
  precision and recall for binary models, from the stored probability against the model's
  threshold and the recorded outcome (`actual_value`). A model none of whose predictions was
  judged in the period (a new model's outcomes lie in the future) reports its held-out test
  accuracy instead, and `accuracySource` says which ("validated" or "held-out"); alerts only
  ever use the validated figure.
* Alerts: accuracy below the held-out accuracy by more than `alertThresholds.accuracyDrop`;
  average latency up by more than `alertThresholds.latencyIncrease` percent on the previous
  period of the same length; drifted features and an overall drift score at or above
  `training.retrainThreshold` from the drift report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.errors import InvalidInput
from propensity.mlconfig.service import MlConfig
from propensity.models import ModelVersion, Prediction
from propensity.timefmt import iso_z

PERIODS: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}


def parse_period(value: str | None, *, default: str = "24h") -> tuple[str, timedelta]:
    name = (value or default).strip()
    if name not in PERIODS:
        raise InvalidInput(
            f"Invalid period '{value}': use one of {', '.join(PERIODS)}",
            code="INVALID_PERIOD",
            details={"period": value, "allowed": list(PERIODS)},
        )
    return name, PERIODS[name]


def percentile(values: np.ndarray, q: float) -> float | None:
    return round(float(np.percentile(values, q)), 3) if values.size else None


@dataclass(frozen=True, kw_only=True)
class Latency:
    count: int
    average: float | None
    p50: float | None
    p95: float | None
    p99: float | None


def latency_in(
    session: Session, *, version_ids: list[int], start: datetime, end: datetime
) -> Latency:
    values = np.asarray(
        session.scalars(
            sa.select(Prediction.latency_ms).where(
                Prediction.model_version_id.in_(version_ids),
                Prediction.predicted_at > start,
                Prediction.predicted_at <= end,
                Prediction.latency_ms.is_not(None),
            )
        ).all(),
        dtype=np.float64,
    )
    return Latency(
        count=int(values.size),
        average=round(float(values.mean()), 3) if values.size else None,
        p50=percentile(values, 50),
        p95=percentile(values, 95),
        p99=percentile(values, 99),
    )


def prediction_count(session: Session, *, version_id: int, start: datetime, end: datetime) -> int:
    return int(
        session.scalar(
            sa.select(sa.func.count(Prediction.id)).where(
                Prediction.model_version_id == version_id,
                Prediction.predicted_at > start,
                Prediction.predicted_at <= end,
            )
        )
        or 0
    )


@dataclass(frozen=True, kw_only=True)
class Validated:
    count: int
    accuracy: float | None
    precision: float | None
    recall: float | None


def validated_quality(
    session: Session, *, version: ModelVersion, start: datetime, end: datetime
) -> Validated:
    rows = session.execute(
        sa.select(Prediction.was_accurate, Prediction.probability, Prediction.actual_value).where(
            Prediction.model_version_id == version.id,
            Prediction.was_accurate.is_not(None),
            Prediction.validated_at > start,
            Prediction.validated_at <= end,
        )
    ).all()
    if not rows:
        return Validated(count=0, accuracy=None, precision=None, recall=None)
    accuracy = sum(1 for r in rows if r[0]) / len(rows)
    precision = recall = None
    if version.threshold is not None:
        pairs = [(float(p), float(a)) for _, p, a in rows if p is not None and a is not None]
        flagged = [a for p, a in pairs if p >= version.threshold]
        positives = [p for p, a in pairs if a >= 0.5]
        true_pos = sum(1 for a in flagged if a >= 0.5)
        precision = true_pos / len(flagged) if flagged else None
        recall = true_pos / len(positives) if positives else None
    return Validated(
        count=len(rows),
        accuracy=round(accuracy, 4),
        precision=None if precision is None else round(precision, 4),
        recall=None if recall is None else round(recall, 4),
    )


def alerts(
    *,
    version: ModelVersion,
    validated: Validated,
    latency: Latency,
    previous_latency: Latency,
    drift: dict[str, Any] | None,
    config: MlConfig,
    now: datetime,
) -> list[dict[str, Any]]:
    """Alerts in the document's shape {type, severity, message, timestamp} (see module doc)."""
    out: list[dict[str, Any]] = []
    thresholds = config.monitoring.alertThresholds
    held_out = (version.metrics or {}).get("accuracy")
    if validated.accuracy is not None and isinstance(held_out, int | float):
        drop = float(held_out) - validated.accuracy
        if drop > thresholds.accuracyDrop:
            out.append(
                {
                    "type": "accuracy",
                    "severity": "critical" if drop > 2 * thresholds.accuracyDrop else "warning",
                    "message": f"Accuracy {validated.accuracy:.3f} on {validated.count} validated "
                    f"predictions is {drop:.3f} below the held-out {float(held_out):.3f}",
                    "timestamp": iso_z(now),
                }
            )
    if latency.average is not None and previous_latency.average:
        increase = 100.0 * (latency.average / previous_latency.average - 1.0)
        if increase > thresholds.latencyIncrease:
            out.append(
                {
                    "type": "latency",
                    "severity": "warning",
                    "message": f"Average latency {latency.average:.1f} ms is {increase:.0f}% above "
                    f"the previous period's {previous_latency.average:.1f} ms",
                    "timestamp": iso_z(now),
                }
            )
    if drift is not None:
        at = drift.get("asOf") or iso_z(now)
        for feature in drift.get("driftedFeatures", []):
            out.append(
                {
                    "type": "drift",
                    "severity": "critical" if feature["level"] == "significant" else "warning",
                    "message": f"Data drift detected in {feature['feature']} feature "
                    f"(PSI {feature['psi']:.3f})",
                    "timestamp": at,
                }
            )
        overall = drift.get("overallDrift")
        if isinstance(overall, int | float) and overall >= config.training.retrainThreshold:
            out.append(
                {
                    "type": "drift",
                    "severity": "warning",
                    "message": f"Overall drift score {overall:.3f} reached the retrain threshold "
                    f"{config.training.retrainThreshold:g}",
                    "timestamp": at,
                }
            )
    return out


def accuracy_with_source(
    *, version: ModelVersion, validated: Validated
) -> tuple[float | None, str | None]:
    """(the accuracy a report shows, where it comes from): the predictions validated in the
    period, else the version's held-out accuracy (stored with every version), else none."""
    if validated.accuracy is not None:
        return validated.accuracy, "validated"
    held_out = (version.metrics or {}).get("accuracy")
    if isinstance(held_out, int | float):
        return round(float(held_out), 4), "held-out"
    return None, None
