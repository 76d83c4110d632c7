"""Scoring a list of leads in the background: a `score_portfolio` job over the leads of the
tenant among those asked for, scored as of the time it was queued by the active CONVERSION
model (and, during a champion/challenger deployment, the challenger for its leads: ADR 0008),
and reading back what that job stored.

A job's rows are the CONVERSION predictions stamped with its `asOf`, whichever model made them
and whatever their status since (a later score supersedes a row, it does not unmake the job's
answer)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.crm.lookup import ID_CHUNK
from propensity.jobs import Job, enqueue_job
from propensity.models import Lead, ModelVersion, Prediction
from propensity.predictions.tasks import SCORE_PORTFOLIO
from propensity.vocabulary import PredictionType

CONVERSION = PredictionType.CONVERSION.value


@dataclass(frozen=True)
class QueuedLeads:
    job: Job
    known: int  # how many of the leads asked for the tenant has (the job scores those)


def queue_lead_scoring(
    session: Session,
    *,
    lead_ids: Sequence[int],
    model: ModelVersion,
    as_of: datetime,
    priority: int,
    user_id: int | None,
    tags: Mapping[str, object],
) -> QueuedLeads:
    """Queues the job (committed: the message goes out with the commit) and returns it. The
    job's params keep every id asked for (`leadIds`) beside those it scores (`entityIds`),
    plus the caller's `tags` to find and describe it again."""
    known = _known_lead_ids(session, lead_ids)
    job = enqueue_job(
        session,
        type=SCORE_PORTFOLIO,
        params={
            "predictionType": CONVERSION,
            "entityIds": [i for i in lead_ids if i in known],
            "asOf": as_of.isoformat(),
            "leadIds": list(lead_ids),
            "modelId": model.id,
            **tags,
        },
        total=len(known),
        created_by=user_id,
        priority=priority,
    )
    session.commit()
    return QueuedLeads(job=job, known=len(known))


def _known_lead_ids(session: Session, ids: Sequence[int]) -> set[int]:
    """Those of `ids` that are leads of the session's tenant (ids only: a batch names up to
    a million)."""
    found: set[int] = set()
    for start in range(0, len(ids), ID_CHUNK):
        chunk = list(ids[start : start + ID_CHUNK])
        found.update(int(i) for i in session.scalars(sa.select(Lead.id).where(Lead.id.in_(chunk))))
    return found


def _job_rows(as_of: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(Prediction.prediction_type == CONVERSION, Prediction.predicted_at == as_of)


def batch_scores(
    session: Session, *, as_of: datetime, lead_ids: Sequence[int]
) -> dict[int, tuple[float | None, float | None]]:
    """Lead id -> (probability, confidence) of the rows the job at `as_of` stored for these
    leads (a page of its results)."""
    if not lead_ids:
        return {}
    rows = session.execute(
        sa.select(Prediction.lead_id, Prediction.probability, Prediction.confidence).where(
            _job_rows(as_of), Prediction.lead_id.in_(list(lead_ids))
        )
    )
    return {int(lead): (p, c) for lead, p, c in rows if lead is not None}


@dataclass(frozen=True)
class BatchSummary:
    scored: int
    mean_probability: float | None
    mean_confidence: float | None


def batch_summary(session: Session, *, as_of: datetime) -> BatchSummary:
    """How many rows the job at `as_of` stored, and their mean probability and confidence."""
    count, mean_probability, mean_confidence = session.execute(
        sa.select(
            sa.func.count(Prediction.id),
            sa.func.avg(Prediction.probability),
            sa.func.avg(Prediction.confidence),
        ).where(_job_rows(as_of))
    ).one()
    return BatchSummary(
        scored=int(count),
        mean_probability=None if mean_probability is None else float(mean_probability),
        mean_confidence=None if mean_confidence is None else float(mean_confidence),
    )
