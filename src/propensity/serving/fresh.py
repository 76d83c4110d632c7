"""Fresh answers: the entities a request could not answer from what was stored, scored by
the model that serves them, explained, recorded and committed.

The scoring goes through the process's scoring lane (gate.py, ADR 0019): a request that finds
the slot busy waits, and is scored in one run with the other waiters for the same model. The
request leading the run records and commits every waiter's rows; each waiter adopts its own
rows into its session as loaded objects."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from propensity.db import TENANT_KEY
from propensity.errors import PropensityError
from propensity.modeling import load_model
from propensity.models import ModelVersion, Prediction
from propensity.predictions.scoring import ScoringRun, model_frame, score_frame
from propensity.predictions.service import adopt_prediction, prediction_values, record_run
from propensity.registry.service import artifact_cache
from propensity.serving.gate import scoring_lane
from propensity.settings import Settings
from propensity.write_signal import has_written


class ScoringTimedOut(PropensityError):
    status_code = 504
    code = "PREDICTION_TIMEOUT"


def check_timeout(*, elapsed_ms: float, timeout_ms: float, model_id: int) -> None:
    """ScoringTimedOut when scoring took longer than `timeout_ms`. Measured after the fact:
    a scoring thread is never killed midway."""
    if elapsed_ms > timeout_ms:
        raise ScoringTimedOut(
            "ML prediction timed out",
            details={
                "timeout": timeout_ms,
                "modelId": str(model_id),
                "elapsedMs": round(elapsed_ms),
            },
        )


@dataclass(frozen=True)
class Fresh:
    """A prediction just scored and stored, with its share of the run's scoring time (ms)."""

    prediction: Prediction
    share: float


def score_with(
    session: Session,
    *,
    version: ModelVersion,
    role: str,
    entity_ids: list[int],
    now: datetime,
    settings: Settings,
) -> tuple[float, dict[int, Prediction]]:
    """Scores these entities with `version`, explained, and records them as served in
    `role`. Flushes. Returns the measured scoring time per entity in ms and the predictions
    stored, by entity: one with no features at this time (say, created after it) has none."""
    started = time.perf_counter()
    model = artifact_cache.get(session, version=version, loader=load_model)
    frame = model_frame(session, version=version, model=model, entity_ids=entity_ids, as_of=now)
    results = score_frame(model=model, version=version, frame=frame)
    elapsed_ms = (time.perf_counter() - started) * 1000
    results = [replace(r, served_by=role, model_version_id=version.id) for r in results]
    share = elapsed_ms / max(len(results), 1)
    stored: list[Prediction] = []
    record_run(
        session,
        run=ScoringRun(version=version, as_of=now, results=results),
        settings=settings,
        latency_ms=round(share, 3),
        loaded=stored,
    )
    return share, {r.entity_id: p for r, p in zip(results, stored, strict=True)}


def score_fresh(
    session: Session,
    *,
    groups: list[tuple[ModelVersion, str, list[int]]],
    now: datetime,
    settings: Settings,
    deadline_ms: float | None,
    run_deadline_ms: float | None,
    run_model: ModelVersion | None,
) -> dict[int, Fresh]:
    """Each group's entities (model version, role, ids) scored, recorded and committed.
    With `deadline_ms`, scoring slower than that per entity raises ScoringTimedOut and
    nothing is recorded; `run_deadline_ms` is the same for all the groups together, named
    after `run_model` (else the group's model)."""
    # A many-entity request with a deadline for the whole run is scored alone and committed
    # only once every group is in time. A request whose transaction already wrote may hold
    # SQLite's write lock, which a leader scoring it with others would wait for (gate.py).
    whole = run_deadline_ms is not None
    shared = not whole and not (session.in_transaction() and has_written(session.connection()))
    # Requests scored together share the scoring deadline too (the same for all).
    scope = (id(session.get_bind()), session.info.get(TENANT_KEY), id(settings), deadline_ms)
    lane = scoring_lane(settings.scoring_concurrency)
    fresh: dict[int, Fresh] = {}
    for version, role, ids in groups:

        def work(
            wanted: list[int], at: datetime, *, version: ModelVersion = version, role: str = role
        ) -> dict[int, Fresh]:
            share, scored = score_with(
                session, version=version, role=role, entity_ids=wanted, now=at, settings=settings
            )
            if deadline_ms is not None:
                _in_time(session, elapsed_ms=share, timeout_ms=deadline_ms, model_id=version.id)
            if not whole:
                session.commit()
            return {i: Fresh(prediction, share) for i, prediction in scored.items()}

        fresh.update(
            lane.run(
                key=(*scope, version.id, role) if shared else None,
                ids=ids,
                now=now,
                work=work,
                hand=_hand,
                adopt=partial(_adopt, session),
                final=(ScoringTimedOut,),
            )
        )
        if run_deadline_ms is not None:
            _in_time(
                session,
                elapsed_ms=sum(answer.share for answer in fresh.values()),
                timeout_ms=run_deadline_ms,
                model_id=(run_model or version).id,
            )
    # A whole run's rows, and a waiter's read transaction (its rows were committed by the
    # request that scored them).
    session.commit()
    return fresh


def _in_time(session: Session, *, elapsed_ms: float, timeout_ms: float, model_id: int) -> None:
    """check_timeout, with nothing of the run recorded when it raises."""
    try:
        check_timeout(elapsed_ms=elapsed_ms, timeout_ms=timeout_ms, model_id=model_id)
    except ScoringTimedOut:
        session.rollback()
        raise


def _hand(answer: Fresh) -> tuple[dict[str, Any], float]:
    """A stored prediction as values another request's session can adopt."""
    return prediction_values(answer.prediction), answer.share


def _adopt(session: Session, handed: tuple[dict[str, Any], float]) -> Fresh:
    """The row another request stored, as this session's own loaded object (no statement)."""
    values, share = handed
    return Fresh(adopt_prediction(session, values), share)
