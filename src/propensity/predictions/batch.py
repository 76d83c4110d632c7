"""Scoring a whole portfolio, or the part of it most in need, as one run of chunks.

The features of every entity are built once (one scan of the events beats per-chunk IN lists),
then each chunk of CHUNK_SIZE rows is scored (`score_frame` with explanations and narratives
for the rows at risk only), stored in its own transaction and reported. A rerun scores again
and supersedes what an interrupted run stored, so reruns are idempotent: every entity ends
with exactly one ACTIVE prediction of the type.

Which entities: `entity_ids` when given; otherwise the live population (`population_ids`),
and with `max_entities` only that many of it, those whose ACTIVE prediction of the type is
missing or oldest first.

While a champion/challenger deployment runs, the challenger's share of the entities is scored
by the challenger in its own segment of chunks (ADR 0008).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import utcnow
from propensity.errors import InvalidInput
from propensity.features import ScoringFrame, population_ids
from propensity.modeling import AnyModel
from propensity.models import ModelVersion, Prediction, PredictionStatus
from propensity.predictions.scoring import (
    ChallengerRoute,
    Scored,
    ScoringRun,
    challenger_route,
    model_frame,
    resolve_model,
    score_frame,
    split_frames,
    subset,
)
from propensity.predictions.service import record_run
from propensity.settings import Settings

CHUNK_SIZE = 5000
MIN_CHUNK_SIZE = 100

SessionFactory = Callable[[], AbstractContextManager[Session]]
Progress = Callable[[int, int], None]


@dataclass(frozen=True, kw_only=True)
class PortfolioRun:
    scored: int
    at_risk: int  # rows stored with explanation and narrative
    prediction_type: str
    population: str
    model_version: str
    model_version_id: int
    as_of: datetime
    seconds: float
    # Where the time went: the feature build, then model and explanations, then the writes.
    stage_seconds: dict[str, float]

    def to_dict(self) -> dict[str, object]:
        return {
            "scored": self.scored,
            "atRisk": self.at_risk,
            "predictionType": self.prediction_type,
            "population": self.population,
            "modelVersion": self.model_version,
            "modelId": self.model_version_id,
            "asOf": self.as_of.isoformat(),
            "seconds": round(self.seconds, 3),
            "stageSeconds": {k: round(v, 3) for k, v in self.stage_seconds.items()},
        }


def batch_share_ms(
    *, features_seconds: float, total: int, scoring_seconds: float, rows: int
) -> float:
    """A batch row's share of the batch's time in ms: the run's feature build spread over
    every row, plus its chunk's scoring spread over the chunk's rows (the latency recorded
    with each batch prediction, so performance figures exist from the first run)."""
    per_row = features_seconds / max(total, 1) + scoring_seconds / max(rows, 1)
    return round(1000.0 * per_row, 3)


def stalest_first(session: Session, *, version: ModelVersion, ids: np.ndarray) -> np.ndarray:
    """`ids` ordered by their ACTIVE prediction of the type: none first, then the oldest
    (ties and equal times by id, so the order is reproducible)."""
    subject = Prediction.lead_id if version.population == "lead" else Prediction.customer_id
    latest = dict(
        session.execute(
            sa.select(subject, sa.func.max(Prediction.predicted_at))
            .where(
                Prediction.prediction_type == version.prediction_type,
                Prediction.status == PredictionStatus.ACTIVE.value,
                subject.is_not(None),
            )
            .group_by(subject)
        ).all()
    )
    never = [int(i) for i in ids if int(i) not in latest]
    dated = sorted((latest[int(i)], int(i)) for i in ids if int(i) in latest)
    return np.asarray(sorted(never) + [i for _, i in dated], dtype=np.int64)


def choose_entities(
    session: Session,
    *,
    version: ModelVersion,
    as_of: datetime,
    entity_ids: Sequence[int] | None,
    max_entities: int | None,
) -> list[int] | None:
    """The ids to score (None: the whole live population, which the feature build selects)."""
    if entity_ids is not None:
        chosen = list(dict.fromkeys(int(i) for i in entity_ids))
        return chosen[:max_entities] if max_entities is not None else chosen
    if max_entities is None:
        return None
    live = population_ids(
        session,
        prediction_type=version.prediction_type,
        kind=None if version.population == "lead" else version.population,
        as_of=as_of,
        mode=str(version.training_summary.get("mode") or "point_in_time"),
    )
    return [int(i) for i in stalest_first(session, version=version, ids=live)[:max_entities]]


@dataclass(frozen=True, kw_only=True)
class _Segment:
    """Rows one model scores: the champion's, or a running deployment's challenger's."""

    version: ModelVersion
    model: AnyModel
    frame: ScoringFrame
    route: ChallengerRoute | None = None

    def mark(self, results: list[Scored]) -> list[Scored]:
        return results if self.route is None else self.route.mark(results)


def _segments(
    session: Session, *, version: ModelVersion, model: AnyModel, frame: ScoringFrame | None
) -> list[_Segment]:
    if frame is None:
        return []
    route = challenger_route(session, version=version)
    if route is None:
        return [_Segment(version=version, model=model, frame=frame)]
    champion_frame, challenger_frame = split_frames(session, route=route, frame=frame)
    return [
        _Segment(version=version, model=model, frame=champion_frame),
        _Segment(version=route.version, model=route.model, frame=challenger_frame, route=route),
    ]


def stored_by_job(session: Session, *, job_id: str, population: str) -> dict[int, bool]:
    """Entity id -> whether stored with its explanation (at risk), for the predictions an
    earlier run of this job stored."""
    subject = Prediction.lead_id if population == "lead" else Prediction.customer_id
    rows = session.execute(
        sa.select(subject, Prediction.explanation.is_not(None)).where(
            Prediction.job_id == job_id, subject.is_not(None)
        )
    ).all()
    return {int(entity): bool(explained) for entity, explained in rows if entity is not None}


def score_portfolio(
    open_session: SessionFactory,
    *,
    prediction_type: str,
    kind: str | None = None,
    entity_ids: Sequence[int] | None = None,
    max_entities: int | None = None,
    as_of: datetime | None = None,
    chunk_size: int = CHUNK_SIZE,
    settings: Settings | None = None,
    progress: Progress | None = None,
    job_id: str | None = None,
) -> PortfolioRun:
    """Scores and stores, chunk by chunk; `open_session()` gives a tenant-scoped unit of work
    (committed when it closes), `progress(done, total)` is called after each stored chunk.

    With `job_id` (the job running this), predictions are stamped with it, and the entities an
    earlier run of the same job already stored (it was interrupted after some chunks) are
    skipped: a retry writes nothing twice and announces nothing twice, and the run counts
    them as scored."""
    if max_entities is not None and max_entities < 1:
        raise InvalidInput("maxEntities must be a positive number.")
    if chunk_size < MIN_CHUNK_SIZE:
        raise InvalidInput(f"The chunk size must be at least {MIN_CHUNK_SIZE}.")
    started = time.perf_counter()
    as_of = as_of or utcnow()
    with open_session() as session:
        version, model = resolve_model(session, prediction_type=prediction_type, kind=kind)
        ids = choose_entities(
            session,
            version=version,
            as_of=as_of,
            entity_ids=entity_ids,
            max_entities=max_entities,
        )
        stored = (
            stored_by_job(session, job_id=job_id, population=version.population)
            if job_id is not None
            else {}
        )
        if stored and ids is not None:
            ids = [i for i in ids if int(i) not in stored]
        frame = (
            None
            if ids is not None and not ids
            else model_frame(session, version=version, model=model, entity_ids=ids, as_of=as_of)
        )
        if stored and frame is not None:
            frame = subset(frame, ~np.isin(frame.entity_ids, list(stored)))
        segments = _segments(session, version=version, model=model, frame=frame)
    stages = {"features": time.perf_counter() - started, "scoring": 0.0, "storing": 0.0}
    total = sum(len(segment.frame.frame) for segment in segments)
    if progress is not None:
        # An earlier run's entities count as done: progress is the job's, not this run's.
        progress(len(stored), total + len(stored))
    flagged = sum(stored.values())
    done = len(stored)
    chunks = [
        (part, start) for part in segments for start in range(0, len(part.frame.frame), chunk_size)
    ]
    for segment, start in chunks:
        stop = min(start + chunk_size, len(segment.frame.frame))
        mark = time.perf_counter()
        results = segment.mark(
            score_frame(
                model=segment.model,
                version=segment.version,
                frame=segment.frame,
                rows=slice(start, stop),
                detailed_only_at_risk=True,
            )
        )
        flagged += sum(1 for r in results if r.explanation is not None or r.contributions)
        scoring = time.perf_counter() - mark
        stages["scoring"] += scoring
        mark = time.perf_counter()
        with open_session() as session:
            record_run(
                session,
                run=ScoringRun(version=version, as_of=as_of, results=results),
                settings=settings,
                latency_ms=batch_share_ms(
                    features_seconds=stages["features"],
                    total=total,
                    scoring_seconds=scoring,
                    rows=stop - start,
                ),
                job_id=job_id,
            )
        stages["storing"] += time.perf_counter() - mark
        done += stop - start
        if progress is not None:
            progress(done, total + len(stored))
    return PortfolioRun(
        scored=total + len(stored),
        at_risk=flagged,
        prediction_type=version.prediction_type,
        population=version.population,
        model_version=version.version,
        model_version_id=version.id,
        as_of=as_of,
        seconds=time.perf_counter() - started,
        stage_seconds=stages,
    )
