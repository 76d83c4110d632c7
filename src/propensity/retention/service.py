"""Pruning: rows that no answer needs any more are deleted after their retention period, so
predictions, jobs and webhook history do not grow without bound.

- Predictions that are no longer the answer (superseded or expired) and older than
  `retention_prediction_days`; the ACTIVE ones always stay. A CTA that pointed at a deleted
  prediction keeps its task (its provenance is set to null by the foreign key).
- Finished jobs (completed, failed, cancelled) that finished longer ago than
  `retention_job_days`; queued and running ones always stay.
- Webhook events older than `retention_webhook_days` none of whose deliveries is still
  pending or sending, with their deliveries and attempts (the foreign keys cascade).

CRM data (customers, leads, events, health) is the tenant's own and is never pruned here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.models import (
    DeliveryStatus,
    Job,
    JobStatus,
    Prediction,
    PredictionStatus,
    WebhookDelivery,
    WebhookEvent,
)
from propensity.settings import Settings

# Rows deleted per statement: short write transactions on SQLite, bounded IN lists.
BATCH = 5000


@dataclass(frozen=True)
class Pruned:
    predictions: int
    jobs: int
    webhook_events: int

    def to_dict(self) -> dict[str, int]:
        return {
            "predictions": self.predictions,
            "jobs": self.jobs,
            "webhookEvents": self.webhook_events,
        }


def _delete_ids(session: Session, model: type, ids: list[object]) -> int:
    deleted = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        result = session.execute(
            sa.delete(model).where(model.id.in_(chunk)).execution_options(synchronize_session=False)  # type: ignore[attr-defined]
        )
        deleted += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return deleted


def prune(session: Session, *, settings: Settings, now: datetime) -> Pruned:
    """Deletes what the retention settings say has expired, in the session's tenant and
    transaction; returns how many of each went."""
    old_predictions = list(
        session.scalars(
            sa.select(Prediction.id).where(
                Prediction.status != PredictionStatus.ACTIVE.value,
                Prediction.predicted_at < now - timedelta(days=settings.retention_prediction_days),
            )
        )
    )
    finished = (JobStatus.COMPLETED.value, JobStatus.FAILED.value, JobStatus.CANCELLED.value)
    old_jobs = list(
        session.scalars(
            sa.select(Job.id).where(
                Job.status.in_(finished),
                Job.finished_at < now - timedelta(days=settings.retention_job_days),
            )
        )
    )
    open_deliveries = (
        sa.select(WebhookDelivery.event_id)
        .where(
            WebhookDelivery.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value])
        )
        .scalar_subquery()
    )
    old_events = list(
        session.scalars(
            sa.select(WebhookEvent.id).where(
                WebhookEvent.created_at < now - timedelta(days=settings.retention_webhook_days),
                WebhookEvent.id.not_in(open_deliveries),
            )
        )
    )
    return Pruned(
        predictions=_delete_ids(session, Prediction, list(old_predictions)),
        jobs=_delete_ids(session, Job, list(old_jobs)),
        webhook_events=_delete_ids(session, WebhookEvent, list(old_events)),
    )
