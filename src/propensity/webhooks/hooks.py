"""The calls domain code makes when something webhook-worthy happens, in its transaction.

Each asks `wants` first (one indexed probe per transaction, see events.py), so a tenant
without subscriptions pays nothing else; the payload is built only when someone listens.
Batch-sized facts are one event per run, listing at most MAX_IDS entities (`truncated` says
when there were more; `count` is always the full number).

Payloads (the event's `data`):
  prediction.created    {predictionType, population, modelId, modelVersion, asOf, count,
                         entityType, entityIds, externalIds, truncated}
  prediction.high_risk  CHURN rows in the high or critical risk category:
  churn.alert           {predictionType, population, modelId, modelVersion, asOf, cutoffs,
                         count, entities: [{id, externalId, probability, riskCategory}],
                         truncated}, highest probability first
  prediction.completed  a portfolio scoring run: its result (scored, atRisk, ...) and jobId
  prediction.validated  {scope, judged, accurate, inaccurate, undetermined, byType,
                         validatedAt}
  cta.auto_generated    the CTA (id, type, priority, title, ..., accountId, predictionId)
  model.trained         {modelId, version, predictionType, population, algorithm, status,
                         metrics, trainingSeconds, trainedAt, jobId}
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from propensity.narratives.risk import RiskCutoffs
from propensity.settings import Settings, get_settings
from propensity.timefmt import iso_z
from propensity.webhooks.events import emit_event, wants

if TYPE_CHECKING:
    from propensity.models import ModelVersion
    from propensity.predictions.scoring import ScoringRun

MAX_IDS = 100
HIGH_RISK = ("high", "critical")


def _run_header(run: ScoringRun) -> dict[str, Any]:
    version = run.version
    return {
        "predictionType": version.prediction_type,
        "population": version.population,
        "modelId": str(version.id),
        "modelVersion": version.version,
        "asOf": iso_z(run.as_of),
    }


def predictions_recorded(
    session: Session, *, run: ScoringRun, settings: Settings | None = None
) -> None:
    """After a scoring run's predictions are written (predictions.service.record_run)."""
    if not run.results:
        return
    if wants(session, "prediction.created"):
        shown = run.results[:MAX_IDS]
        emit_event(
            session,
            type="prediction.created",
            data={
                **_run_header(run),
                "count": len(run.results),
                "entityType": "lead" if run.version.population == "lead" else "customer",
                "entityIds": [r.entity_id for r in shown],
                "externalIds": [r.external_id for r in shown],
                "truncated": len(run.results) > MAX_IDS,
            },
        )
    if run.version.prediction_type != "CHURN":
        return
    # The customer-success document calls it prediction.high_risk, RetainStream churn.alert.
    types = [t for t in ("prediction.high_risk", "churn.alert") if wants(session, t)]
    if types:
        _high_risk(session, run=run, settings=settings or get_settings(), types=types)


def _high_risk(session: Session, *, run: ScoringRun, settings: Settings, types: list[str]) -> None:
    # The customer-success surface's cut-offs, so the event and the API's riskCategory agree.
    cutoffs = RiskCutoffs.of(threshold=run.version.threshold, settings=settings)
    flagged = sorted(
        (
            (r, cutoffs.category(r.probability))
            for r in run.results
            if r.probability is not None and r.probability >= cutoffs.high
        ),
        key=lambda pair: -(pair[0].probability or 0.0),
    )
    if not flagged:
        return
    data = {
        **_run_header(run),
        "cutoffs": {"high": cutoffs.high, "critical": cutoffs.critical},
        "count": len(flagged),
        "entities": [
            {
                "id": r.entity_id,
                "externalId": r.external_id,
                "probability": round(float(r.probability or 0.0), 4),
                "riskCategory": category,
            }
            for r, category in flagged[:MAX_IDS]
        ],
        "truncated": len(flagged) > MAX_IDS,
    }
    for type in types:
        emit_event(session, type=type, data=data)


def portfolio_completed(
    session: Session, *, result: Mapping[str, Any], job_id: str | None = None
) -> None:
    """A whole portfolio scoring run finished (the score_portfolio job, the daily refresh)."""
    if wants(session, "prediction.completed"):
        emit_event(
            session,
            type="prediction.completed",
            data={**result, "jobId": job_id},
            key=f"job:{job_id}" if job_id else None,  # a rerun job emits the same event id
        )


def predictions_validated(
    session: Session,
    *,
    scope: str,
    verdicts: Iterable[tuple[str, bool | None]],
    validated_at: Any,
) -> None:
    """Expired predictions were judged against outcomes; `verdicts` are (type, was_accurate)."""
    if not wants(session, "prediction.validated"):
        return
    by_type: dict[str, Counter[str]] = defaultdict(Counter)
    for prediction_type, accurate in verdicts:
        label = "undetermined" if accurate is None else "accurate" if accurate else "inaccurate"
        by_type[prediction_type][label] += 1
    if not by_type:
        return
    total: Counter[str] = Counter()
    for counts in by_type.values():
        total.update(counts)
    labels = ("accurate", "inaccurate", "undetermined")
    emit_event(
        session,
        type="prediction.validated",
        data={
            "scope": scope,
            "judged": sum(total.values()),
            **{label: total[label] for label in labels},
            "byType": {t: {label: c[label] for label in labels} for t, c in by_type.items()},
            "validatedAt": iso_z(validated_at),
        },
    )


def cta_generated(session: Session, *, cta: Mapping[str, Any]) -> None:
    """Rules created a CTA from a prediction (not a manual one)."""
    if wants(session, "cta.auto_generated"):
        emit_event(session, type="cta.auto_generated", data=cta, key=f"cta:{cta['id']}")


def model_trained(session: Session, *, version: ModelVersion, job_id: str | None = None) -> None:
    """A version finished training (and was activated when asked to)."""
    if not wants(session, "model.trained"):
        return
    metrics = {k: v for k, v in (version.metrics or {}).items() if isinstance(v, int | float | str)}
    emit_event(
        session,
        type="model.trained",
        data={
            "modelId": str(version.id),
            "version": version.version,
            "predictionType": version.prediction_type,
            "population": version.population,
            "algorithm": version.algorithm,
            "status": version.status,
            "metrics": metrics,
            "trainingSeconds": version.training_seconds,
            "trainedAt": iso_z(version.trained_at),
            "jobId": job_id,
        },
        key=f"model:{version.id}",
    )
