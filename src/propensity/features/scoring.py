"""`build_scoring_frame`: the training features for (entity, as_of) rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from propensity.errors import InvalidInput, NotFound
from propensity.features.attributes import Rows
from propensity.features.builder import (
    POINT_IN_TIME,
    STATIC,
    Context,
    compute_features,
    detect_mode,
    load_context,
    load_entities,
    load_stored_context,
    resolve_kind,
    select_columns,
    stamp,
    static_time,
    us_of,
)
from propensity.features.definitions import FeatureDefinition
from propensity.features.loading import MAX_IN_LIST, Entities
from propensity.features.policy import ColumnPolicy
from propensity.features.snapshots import alive, not_prospects
from propensity.features.state import StateMiss
from propensity.features.windows import FloatArray, IntArray
from propensity.modeling.table import Table
from propensity.vocabulary import PredictionType

# Up to this many ids, a point-in-time build reads only their rows (online.py); above it one
# scan of everything is faster than the IN lists.
ONLINE_MAX_IDS = MAX_IN_LIST


@dataclass(frozen=True, kw_only=True)
class ScoringFrame:
    prediction_type: str
    kind: str | None
    mode: str
    as_of: datetime
    table: Table  # one row per entity, the training set's columns
    definitions: tuple[FeatureDefinition, ...]
    entity_ids: np.ndarray
    external_ids: np.ndarray
    # HEALTH_TREND: the latest overall score before as_of, for the trajectory.
    current_scores: FloatArray | None = None

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame, built once on first use (scoring reads the table)."""
        return self.table.to_frame()

    @property
    def feature_names(self) -> list[str]:
        return [str(c) for c in self.table.columns]


def _population(entities: Entities, mode: str, t: int, *, customers_only: bool) -> IntArray:
    """Codes of the entities scored when no ids are given: alive at t (point in time), or not
    flagged as churned/converted (static)."""
    if mode == STATIC:
        flag = "churned" if entities.subject == "customer" else "converted"
        still = np.array([v is not True for v in entities.columns[flag].tolist()], dtype=bool)
        if customers_only:
            still &= not_prospects(entities)
        return np.flatnonzero(still).astype(np.int64)
    return alive(entities, t, customers_only=customers_only)


def population_ids(
    session: Session,
    *,
    prediction_type: str,
    kind: str | None = None,
    as_of: datetime,
    mode: str,
) -> IntArray:
    """Database ids of the entities `build_scoring_frame` scores when given no ids, without
    reading events (a job choosing which entities to score first). Static mode, whose "now"
    comes from the whole data set, counts every entity not flagged."""
    ptype = PredictionType.parse(prediction_type)
    kind = resolve_kind(session, ptype, kind)
    entities = load_entities(session, prediction_type=ptype, kind=kind)
    codes = _population(entities, mode, us_of(as_of), customers_only=kind == "account")
    return entities.ids[codes]


def _stored_or_full(
    session: Session,
    *,
    prediction_type: PredictionType,
    kind: str | None,
    ids: IntArray | None,
    t: int | None,
    policy: ColumnPolicy,
) -> Context:
    """Many entities: from their stored states when the build is point in time at `t` (the
    model's mode, stated) and every state answers that time; otherwise from the whole history.
    The entities are those `build_scoring_frame` then computes: `ids`, or the population at t."""
    entities = load_entities(session, prediction_type=prediction_type, kind=kind)
    if t is not None:
        if ids is None:
            codes = _population(entities, POINT_IN_TIME, t, customers_only=kind == "account")
        else:
            codes = entities.codes_of(ids)
            codes = codes[codes >= 0]
        stored = load_stored_context(
            session,
            prediction_type=prediction_type,
            kind=kind,
            entities=entities,
            codes=codes,
            policy=policy,
            as_of_us=t,
        )
        if stored is not None:
            return stored
    return load_context(
        session, prediction_type=prediction_type, kind=kind, ids=ids, entities=entities
    )


def build_scoring_frame(
    session: Session,
    *,
    prediction_type: str,
    kind: str | None = None,
    entity_ids: Sequence[int] | None = None,
    as_of: datetime | None = None,
    mode: str | None = None,
    column_policy: ColumnPolicy | None = None,
    features: Sequence[str] | None = None,
) -> ScoringFrame:
    """Features of `entity_ids` (any status), or of every entity in the population at `as_of`
    (alive customers, open leads), as of `as_of` (default: now; for a static data set, the same
    "now" its training set used).

    `mode` defaults to what the data implies, as in training; pass the model's to be explicit.
    `features` (the model's feature names) fixes the columns and their order."""
    ptype = PredictionType.parse(prediction_type)
    kind = resolve_kind(session, ptype, kind)
    ids = None if entity_ids is None else np.unique(np.asarray(list(entity_ids), dtype=np.int64))
    policy = column_policy or ColumnPolicy()
    # A few entities in point-in-time mode (the model's mode, stated): the online path reads
    # only their rows. Static mode needs the whole data set's end as its "now".
    online = ids is not None and len(ids) <= ONLINE_MAX_IDS and mode == POINT_IN_TIME
    # A point-in-time build knows its time before loading: the stored states answer only
    # times at or after they were built.
    known_t = None
    if mode == POINT_IN_TIME:
        known_t = us_of(as_of) if as_of is not None else us_of(datetime.now(UTC))
    if online:
        context = load_context(
            session,
            prediction_type=ptype,
            kind=kind,
            ids=ids,
            online=(policy, True),
            as_of_us=known_t,
        )
    else:
        context = _stored_or_full(
            session, prediction_type=ptype, kind=kind, ids=ids, t=known_t, policy=policy
        )
    mode = mode or detect_mode(context)
    if mode not in (POINT_IN_TIME, STATIC):
        raise InvalidInput(f"Unknown mode {mode!r}; expected point_in_time or static.")
    entities = context.entities
    if as_of is not None:
        t = us_of(as_of)
    elif mode == STATIC:
        t = static_time(context, None)
    elif known_t is not None:
        t = known_t
    else:
        t = us_of(datetime.now(UTC))
    if ids is not None:
        codes = entities.codes_of(ids)
        missing = ids[codes < 0]
        if len(missing):
            noun = "Lead" if entities.subject == "lead" else "Customer"
            raise NotFound(
                f"{noun} not found: {', '.join(str(i) for i in missing[:20])}",
                details={"ids": missing.tolist()},
            )
        # Keep the caller's order.
        codes = entities.codes_of(np.asarray(list(entity_ids or []), dtype=np.int64))
    else:
        codes = _population(entities, mode, t, customers_only=context.customers_only)
    rows = Rows(code=codes, t=np.full(len(codes), t, dtype=np.int64))
    try:
        computed, _ = compute_features(
            context, rows, point_in_time=mode == POINT_IN_TIME, policy=policy
        )
    except StateMiss:
        context = load_context(
            session,
            prediction_type=ptype,
            kind=kind,
            ids=ids,
            online=(policy, True) if online else None,
            entities=None if online else entities,
        )
        computed, _ = compute_features(
            context, rows, point_in_time=mode == POINT_IN_TIME, policy=policy
        )
    current = (
        np.asarray(computed.get("health_score_current"), dtype=float)
        if "health_score_current" in computed and ptype is PredictionType.HEALTH_TREND
        else None
    )
    table, definitions = select_columns(computed, features)
    as_of_time = stamp(t)
    assert as_of_time is not None
    return ScoringFrame(
        prediction_type=ptype.value,
        kind=kind,
        mode=mode,
        as_of=as_of_time,
        table=table,
        definitions=definitions,
        entity_ids=entities.ids[codes],
        external_ids=entities.external_ids[codes],
        current_scores=current,
    )
