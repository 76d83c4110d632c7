"""The ML dashboard: totals, per-model performance, system health and daily trends, all from the
tenant's own records over the period.

* summary.totalPredictions: the models' predictions in the period; averageAccuracy: pooled over
  the validations in the period (accurate / validated), or without any the mean of the listed
  models' held-out accuracies (accuracySource says which); averageLatency: mean recorded request
  latency (ms); activeModels: models with status active; alertsCount: the alerts of every listed
  model (performance.py's rules).
* modelPerformance: per model, as the performance endpoint computes it; driftScore is the latest
  stored daily check (monitoring.daily_drift), null until one has run, so the dashboard never
  recomputes every model's drift.
* systemHealth: cpuUsage is the host's one-minute load average over its CPU count (capped at
  1); memoryUsage is 1 - MemAvailable / MemTotal from /proc/meminfo (null where there is none);
  queueDepth the tenant's queued jobs; errorRate failed / finished scoring jobs in the period.
* trends: one point per UTC day with data: accuracy of the predictions validated that day,
  mean recorded latency of the predictions made that day.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.jobs.stats import scoring_error_rate
from propensity.models import Job, JobStatus, ModelStatus, ModelVersion, Prediction
from propensity.monitoring import performance as perf
from propensity.monitoring.report import model_performance

MEMINFO = Path("/proc/meminfo")


def cpu_usage() -> float | None:
    try:
        load = os.getloadavg()[0]
    except OSError:
        return None
    return round(min(load / (os.cpu_count() or 1), 1.0), 4)


def memory_usage(meminfo: Path = MEMINFO) -> float | None:
    try:
        fields = dict(
            (line.split(":")[0], float(line.split()[1]))
            for line in meminfo.read_text().splitlines()
            if ":" in line and len(line.split()) >= 2
        )
    except (OSError, ValueError):
        return None
    total, available = fields.get("MemTotal"), fields.get("MemAvailable")
    if not total or available is None:
        return None
    return round(1.0 - available / total, 4)


def queue_depth(session: Session) -> int:
    return int(
        session.scalar(sa.select(sa.func.count(Job.id)).where(Job.status == JobStatus.QUEUED.value))
        or 0
    )


def _day(value: datetime) -> str:
    return value.date().isoformat()


def _dated(
    session: Session,
    *,
    version_ids: list[int],
    stamp: Any,
    value: Any,
    start: datetime,
    end: datetime,
) -> Any:
    """(stamp, value) of these models' predictions with a value, stamped in (start, end]."""
    return session.execute(
        sa.select(stamp, value).where(
            Prediction.model_version_id.in_(version_ids),
            value.is_not(None),
            stamp > start,
            stamp <= end,
        )
    )


def trends(
    session: Session, *, version_ids: list[int], start: datetime, end: datetime
) -> dict[str, list[dict[str, Any]]]:
    accuracy: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for validated_at, accurate in _dated(
        session,
        version_ids=version_ids,
        stamp=Prediction.validated_at,
        value=Prediction.was_accurate,
        start=start,
        end=end,
    ):
        if validated_at is None:
            continue
        bucket = accuracy[_day(validated_at)]
        bucket[0] += int(bool(accurate))
        bucket[1] += 1
    latency: dict[str, list[float]] = defaultdict(list)
    for predicted_at, ms in _dated(
        session,
        version_ids=version_ids,
        stamp=Prediction.predicted_at,
        value=Prediction.latency_ms,
        start=start,
        end=end,
    ):
        if ms is not None:
            latency[_day(predicted_at)].append(float(ms))
    return {
        "accuracyTrend": [
            {"date": day, "accuracy": round(ok / n, 4), "validated": n}
            for day, (ok, n) in sorted(accuracy.items())
        ],
        "latencyTrend": [
            {"date": day, "latency": round(sum(v) / len(v), 3), "requests": len(v)}
            for day, v in sorted(latency.items())
        ],
    }


def dashboard(
    session: Session, *, versions: list[ModelVersion], period: str, now: datetime
) -> dict[str, Any]:
    name, length = perf.parse_period(period)
    start = now - length
    ids = [v.id for v in versions]
    rows: list[dict[str, Any]] = []
    alerts = 0
    validated = accurate = 0
    held_out: list[float] = []
    for version in versions:
        report = model_performance(
            session, version=version, period=name, now=now, compute_drift=False
        )
        metrics = report["metrics"]
        alerts += len(report["alerts"])
        count = int(metrics["validatedPredictions"])
        if metrics["accuracy"] is not None and metrics["accuracySource"] == "validated":
            validated += count
            accurate += round(float(metrics["accuracy"]) * count)
        elif metrics["accuracy"] is not None:
            held_out.append(float(metrics["accuracy"]))
        rows.append(
            {
                "modelId": version.id,
                "name": version.name,
                "predictionType": version.prediction_type,
                "version": version.version,
                "predictions": metrics["predictionCount"],
                "accuracy": metrics["accuracy"],
                "accuracySource": metrics["accuracySource"],
                "latency": metrics["averageLatency"],
                "driftScore": metrics["driftScore"],
                "driftCheckedAt": report["driftCheckedAt"],
                "status": version.status,
            }
        )
    latency = perf.latency_in(session, version_ids=ids, start=start, end=now) if ids else None
    active = int(
        session.scalar(
            sa.select(sa.func.count(ModelVersion.id)).where(
                ModelVersion.status == ModelStatus.ACTIVE.value
            )
        )
        or 0
    )
    return {
        "period": name,
        "summary": {
            "totalPredictions": sum(int(r["predictions"]) for r in rows),
            "averageAccuracy": (
                round(accurate / validated, 4)
                if validated
                else (round(sum(held_out) / len(held_out), 4) if held_out else None)
            ),
            "accuracySource": "validated" if validated else ("held-out" if held_out else None),
            "averageLatency": latency.average if latency else None,
            "activeModels": active,
            "alertsCount": alerts,
        },
        "modelPerformance": rows,
        "systemHealth": {
            "cpuUsage": cpu_usage(),
            "memoryUsage": memory_usage(),
            "queueDepth": queue_depth(session),
            "errorRate": scoring_error_rate(session, start=start, end=now),
        },
        "trends": trends(session, version_ids=ids, start=start, end=now)
        if ids
        else {"accuracyTrend": [], "latencyTrend": []},
    }
