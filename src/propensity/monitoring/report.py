"""`model_performance`: the performance endpoint's numbers for one model and one period (the
sources are documented in performance.py). The drift score is the latest stored daily check
(store.py) when there is one, otherwise computed now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from propensity.db import utcnow
from propensity.jobs.stats import scoring_error_rate
from propensity.mlconfig.service import load_ml_config
from propensity.models import ModelVersion
from propensity.monitoring import performance as perf
from propensity.monitoring.service import model_drift
from propensity.monitoring.store import latest_drift, summary


def drift_summary(
    session: Session, *, version: ModelVersion, now: datetime, compute: bool = True
) -> dict[str, Any] | None:
    """The latest stored drift check of `version`, else (with `compute`) one computed now."""
    stored = latest_drift(session, tenant_id=version.tenant_id, model_id=version.id)
    if stored is not None or not compute or not version.artifact_hash:
        return stored
    return summary(model_drift(session, version=version, as_of=now))


def model_performance(
    session: Session,
    *,
    version: ModelVersion,
    period: str,
    now: datetime | None = None,
    drift: dict[str, Any] | None = None,
    compute_drift: bool = True,
) -> dict[str, Any]:
    """`drift`: a drift summary already at hand; else the stored one, else (with
    `compute_drift`) one computed now."""
    name, length = perf.parse_period(period)
    end = now or utcnow()
    start = end - length
    config = load_ml_config(session, tenant_id=version.tenant_id)
    latency = perf.latency_in(session, version_ids=[version.id], start=start, end=end)
    previous = perf.latency_in(session, version_ids=[version.id], start=start - length, end=start)
    count = perf.prediction_count(session, version_id=version.id, start=start, end=end)
    validated = perf.validated_quality(session, version=version, start=start, end=end)
    checked = drift or drift_summary(session, version=version, now=end, compute=compute_drift)
    overall = checked.get("overallDrift") if checked else None
    minutes = length.total_seconds() / 60.0
    accuracy, source = perf.accuracy_with_source(version=version, validated=validated)
    return {
        "modelId": version.id,
        "period": name,
        "metrics": {
            "predictionCount": count,
            "averageLatency": latency.average,
            "errorRate": scoring_error_rate(
                session, prediction_type=version.prediction_type, start=start, end=end
            ),
            "accuracy": accuracy,
            "accuracySource": source,
            "precision": validated.precision,
            "recall": validated.recall,
            "validatedPredictions": validated.count,
            "driftScore": overall,
        },
        "performance": {
            "p50Latency": latency.p50,
            "p95Latency": latency.p95,
            "p99Latency": latency.p99,
            "throughput": round(count / minutes, 4),
            "throughputUnit": "predictions per minute",
            "timedPredictions": latency.count,
        },
        "alerts": perf.alerts(
            version=version,
            validated=validated,
            latency=latency,
            previous_latency=previous,
            drift=checked,
            config=config,
            now=end,
        ),
        "driftCheckedAt": checked.get("asOf") if checked else None,
    }
