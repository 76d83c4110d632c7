"""Chunk rows of a chunked job: creation, settling the parent, collecting results.

Chunks are ordinary job rows with deterministic ids `<parent id>.<index:05d>`, so a
re-planned parent finds the chunks it made before, and a parent's chunks are an id range
(served by the primary key index, no extra column or migration).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import Database, utcnow
from propensity.jobs import store
from propensity.jobs.registry import CHUNK_SUFFIX, JobResult
from propensity.logs import get_logger
from propensity.models import Job, JobStatus

log = get_logger(__name__)

MAX_CHUNKS = 10_000
UNFINISHED = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


def chunk_id(parent_id: str, index: int) -> str:
    return f"{parent_id}.{index:05d}"


def chunk_index(job_id: str) -> int:
    return int(job_id.rpartition(".")[2])


def chunks_of(parent_id: str) -> sa.ColumnElement[bool]:
    # '/' sorts right after '.', so this is exactly the ids starting with "<parent>.".
    return sa.and_(Job.id > f"{parent_id}.", Job.id < f"{parent_id}/")


def is_chunk(job_type: str) -> bool:
    return job_type.endswith(CHUNK_SUFFIX)


def chunk_params(params: Mapping[str, Any]) -> tuple[str, int, dict[str, Any]]:
    """(parent id, index, the chunk's own params) from a chunk row's params."""
    return str(params["parent"]), int(params["index"]), dict(params.get("params") or {})


def create_chunks(
    database: Database, job: store.ClaimedJob, planned: Sequence[Mapping[str, Any]]
) -> list[str] | None:
    """Put the parent in the waiting state and make sure each planned chunk has a row.

    Returns the ids of chunks still queued (to enqueue, duplicates being harmless), or
    None when this run no longer owns the parent (cancelled meanwhile).
    """
    parent_id = job.claim.job_id
    with database.system_session() as session:
        entered = store.execute(
            session,
            sa.update(Job)
            .where(job.claim.owns())
            .values(
                worker=store.WAITING_FOR_CHUNKS,
                stage="chunks",
                total=len(planned),
                heartbeat_at=utcnow(),
            ),
        )
        if not entered:
            return None
        existing: dict[str, str] = {
            row.id: row.status
            for row in session.execute(sa.select(Job.id, Job.status).where(chunks_of(parent_id)))
        }
        for index, params in enumerate(planned):
            cid = chunk_id(parent_id, index)
            if cid in existing:
                continue
            session.add(
                Job(
                    id=cid,
                    tenant_id=job.tenant_id,
                    type=job.type + CHUNK_SUFFIX,
                    status=JobStatus.QUEUED.value,
                    params={"parent": parent_id, "index": index, "params": dict(params)},
                    created_by_user_id=job.created_by,
                    priority=job.priority,
                )
            )
            existing[cid] = JobStatus.QUEUED.value
    return [
        chunk_id(parent_id, i)
        for i in range(len(planned))
        if existing[chunk_id(parent_id, i)] == JobStatus.QUEUED.value
    ]


def cancel_unfinished(session: Session, parent_id: str) -> int:
    now = utcnow()
    return store.execute(
        session,
        sa.update(Job)
        .where(chunks_of(parent_id), Job.status.in_(UNFINISHED))
        .values(status=JobStatus.CANCELLED.value, finished_at=now),
    )


def settle(database: Database, parent_id: str) -> store.ClaimedJob | None:
    """Bring a waiting parent up to date with its chunks.

    Called after any chunk finishes. Returns a claim on the parent for this worker to run
    `combine` when every chunk has completed; fails or cancels the parent when a chunk
    did. The first statement locks the parent row (a row lock on PostgreSQL, the write
    lock on SQLite), so chunks finishing at the same moment settle one after the other
    and exactly one of them sees the last completion.
    """
    now = utcnow()
    with database.system_session() as session:
        locked = store.execute(
            session,
            sa.update(Job)
            .where(
                Job.id == parent_id,
                Job.status == JobStatus.RUNNING.value,
                Job.worker == store.WAITING_FOR_CHUNKS,
            )
            .values(heartbeat_at=now),
        )
        if not locked:
            return None
        parent = session.execute(sa.select(Job).where(Job.id == parent_id)).scalar_one()
        total = parent.total or 0
        rows = [
            row
            for row in session.execute(
                sa.select(Job.id, Job.status, Job.error)
                .where(chunks_of(parent_id))
                .order_by(Job.id)
            )
            if chunk_index(row.id) < total
        ]
        counts = Counter(row.status for row in rows)
        done = counts[JobStatus.COMPLETED.value]
        parent.completed = done
        parent.progress = done / total if total else 0.0
        failed = next((row for row in rows if row.status == JobStatus.FAILED.value), None)
        if failed is not None or counts[JobStatus.CANCELLED.value]:
            parent.status = (JobStatus.FAILED if failed else JobStatus.CANCELLED).value
            if failed is not None:
                parent.error = (
                    f"Chunk {chunk_index(failed.id) + 1} of {total} failed: {failed.error}"
                )[: store.ERROR_MAX_CHARS]
            parent.finished_at = now
            cancelled = cancel_unfinished(session, parent_id)
            log.info(
                "job_chunks_ended", job_id=parent_id, status=parent.status, cancelled=cancelled
            )
            return None
        if done < total:
            return None
        me = store.worker_id()
        parent.worker = me
        parent.stage = "combining"
        return store.ClaimedJob(
            claim=store.Claim(parent_id, me, parent.attempts),
            type=parent.type,
            tenant_id=parent.tenant_id,
            params=dict(parent.params or {}),
            total=parent.total,
            created_by=parent.created_by_user_id,
        )


def results(database: Database, parent_id: str, total: int) -> list[JobResult]:
    """Completed chunks' results in plan order."""
    with database.system_session() as session:
        rows = session.execute(
            sa.select(Job.id, Job.result)
            .where(chunks_of(parent_id), Job.status == JobStatus.COMPLETED.value)
            .order_by(Job.id)
        ).all()
    return [row.result for row in rows if chunk_index(row.id) < total]


def unfinished_count(session: Session, parent_id: str) -> int:
    return (
        session.scalar(
            sa.select(sa.func.count()).where(chunks_of(parent_id), Job.status.in_(UNFINISHED))
        )
        or 0
    )
