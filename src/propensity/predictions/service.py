"""Recording predictions: validity windows, superseding (the one writer,
record_predictions), history."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, make_transient_to_detached

from propensity.crm.writer import session_tenant
from propensity.db import TENANT_PARAM, tenant_execute, tenant_matches
from propensity.db_insert import insert_many
from propensity.models import Prediction, PredictionStatus
from propensity.predictions.scoring import Scored, ScoringRun, score_entities
from propensity.settings import Settings, get_settings
from propensity.vocabulary import LEAD_TYPES, Population
from propensity.webhooks import hooks as webhook_hooks

INSERT_CHUNK = 2000


def validity_for(prediction_type: str, settings: Settings | None = None) -> timedelta:
    """How long a prediction stays valid: 24 hours for leads and 30 days for accounts and
    subscribers by default (PROPENSITY_LEAD_PREDICTION_VALIDITY_HOURS and
    PROPENSITY_CUSTOMER_PREDICTION_VALIDITY_DAYS)."""
    settings = settings or get_settings()
    if prediction_type in LEAD_TYPES:
        return timedelta(hours=settings.lead_prediction_validity_hours)
    return timedelta(days=settings.customer_prediction_validity_days)


def expire_predictions(session: Session, *, now: datetime, leads_only: bool = False) -> int:
    """Marks ACTIVE predictions past their validity (with `leads_only`, only leads') as
    EXPIRED; returns how many."""
    past = [Prediction.status == PredictionStatus.ACTIVE.value, Prediction.valid_until <= now]
    if leads_only:
        past.append(Prediction.lead_id.is_not(None))
    result = session.execute(
        sa.update(Prediction)
        .where(*past)
        .values(status=PredictionStatus.EXPIRED.value)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


_TABLE = cast(sa.Table, Prediction.__table__)
# Each mapped attribute and the column it reads, in the table's order.
_ATTRIBUTES = tuple(
    (attribute.key, attribute.columns[0].name) for attribute in sa.inspect(Prediction).column_attrs
)
_RETURNING_INSERT = sa.insert(_TABLE).returning(*_TABLE.c, sort_by_parameter_order=True)


def adopt_prediction(session: Session, values: dict[str, Any]) -> Prediction:
    """A stored row (its values by attribute) as a loaded object of `session`: no statement,
    and nothing marked as changed, as if a query had read it."""
    prediction = Prediction(**values)
    make_transient_to_detached(prediction)
    session.add(prediction)
    return prediction


def prediction_values(prediction: Prediction) -> dict[str, Any]:
    """A loaded prediction's column values by attribute, for `adopt_prediction` in another
    session (a waiting request's, serving/gate.py)."""
    state = prediction.__dict__
    return {key: state[key] for key, _ in _ATTRIBUTES if key in state}


def _insert_returning(session: Session, rows: list[dict[str, Any]]) -> list[Prediction]:
    """Inserts `rows` and returns them as loaded objects, with the values as stored (the
    columns' own conversions both ways, as a query would give). A Core INSERT ... RETURNING:
    the ORM's own returning insert cost a one-row request 0.46 ms against 0.28 ms. It runs on
    the session's connection, not through session.execute: the rows carry their tenant, and
    the ORM's execution of a Core statement cost about 0.2 ms more than Core's."""
    if session.autoflush:
        session.flush()
    result = session.connection().execute(_RETURNING_INSERT, rows)
    return [
        adopt_prediction(session, {key: row._mapping[name] for key, name in _ATTRIBUTES})
        for row in result
    ]


@cache
def _supersede_statement(lead: bool, sqlite: bool) -> sa.Update | sa.TextClause:
    """record_predictions' UPDATE of the older ACTIVE predictions of these entities, built once
    (it was built per call, which cost more than running it). Loaded Prediction objects are
    not synchronised, as with the ORM's synchronize_session=False before.

    It finds each entity's ACTIVE row by the partial index of ACTIVE predictions (models/
    predictions.py), so neither the entity's whole history nor every active prediction of the
    tenant is walked. The condition is spelled out (`status = 'ACTIVE'`, not a parameter) so
    that the index applies. SQLite's planner, without statistics, still prefers the (tenant,
    type, status) index for an IN list of many ids, so there the statement names the index."""
    name = "lead" if lead else "customer"
    active, superseded = PredictionStatus.ACTIVE.value, PredictionStatus.SUPERSEDED.value
    if sqlite:
        # The WHERE implies the index's condition, as INDEXED BY requires: the status is named
        # and the IN list implies the NOT NULL. Naming the NOT NULL too made SQLite scan the
        # index as a range (every active prediction of the type) instead of probing each id.
        return sa.text(
            f"UPDATE predictions INDEXED BY ix_predictions_active_{name} "
            f"SET status = '{superseded}' "
            f"WHERE tenant_id = :{TENANT_PARAM} AND prediction_type = :of_type "
            f"AND {name}_id IN :ids AND status = '{active}'"
        ).bindparams(
            sa.bindparam(TENANT_PARAM, type_=sa.Integer),
            sa.bindparam("of_type", type_=sa.String),
            sa.bindparam("ids", expanding=True),
        )
    subject = Prediction.lead_id if lead else Prediction.customer_id
    return (
        sa.update(Prediction)
        .where(
            tenant_matches(Prediction.tenant_id),
            Prediction.prediction_type == sa.bindparam("of_type", type_=sa.String),
            subject.in_(sa.bindparam("ids", expanding=True)),
            Prediction.status == sa.literal_column(f"'{active}'"),
            subject.is_not(None),
        )
        .values(status=superseded)
    )


def record_run(
    session: Session,
    *,
    run: ScoringRun,
    settings: Settings | None = None,
    latency_ms: float | None = None,
    job_id: str | None = None,
    loaded: list[Prediction] | None = None,
) -> int:
    """Stores every result of `run` as a new ACTIVE prediction of its model's type
    (record_predictions) and announces them to webhooks. Returns the number written; with
    `loaded`, the stored rows are appended to it as loaded objects, in the results' order.
    `latency_ms` is each row's measured scoring time (a request's, or its share of a batch's),
    stored on its rows for monitoring.

    Each row stores what its `Scored` carries. Single-entity and `score_entities` runs carry
    everything; the batch job (batch.py) carries the explanation (top contributions, their
    values, group sums) and the narrative only for rows at risk (`scoring.at_risk`: flagged
    churn or conversion, declining health, every time to close), and for the others the
    prediction, confidence and outputs with empty contributions and no explanation text."""
    version = run.version
    written = record_predictions(
        session,
        prediction_type=version.prediction_type,
        population=version.population,
        as_of=run.as_of,
        results=run.results,
        model_version_id=version.id,
        settings=settings,
        latency_ms=latency_ms,
        job_id=job_id,
        loaded=loaded,
    )
    if written:
        webhook_hooks.predictions_recorded(session, run=run, settings=settings)
    return written


def record_predictions(
    session: Session,
    *,
    prediction_type: str,
    population: str,
    as_of: datetime,
    results: Sequence[Scored],
    model_version_id: int | None = None,
    settings: Settings | None = None,
    latency_ms: float | None = None,
    job_id: str | None = None,
    loaded: list[Prediction] | None = None,
) -> int:
    """The one writer of predictions: stores each result as a new ACTIVE prediction of
    `prediction_type` made at `as_of` (valid for validity_for(prediction_type)) and supersedes
    the older ACTIVE ones of the same type and entity. Returns the number written. Writes in
    the session's transaction and never commits: the caller owns the unit of work.

    record_run writes a model's run through it; the lead types made without a model run go
    through it directly (serving/leads.py): the rule-based CONVERSION (no model), and SCORE
    and PRIORITY derived from a CONVERSION prediction (the model that made it). A result's
    own `model_version_id` wins over the run's `model_version_id` (a challenger's rows).

    Rows go in as one executemany per INSERT_CHUNK (db_insert.py: the values every row shares
    converted once), not through the ORM's bulk path, which costs more than the database does
    for a whole portfolio. With `loaded` (a request answering with what it stored), they go
    in through the ORM with RETURNING instead and the objects are appended to it: one
    statement, no read back."""
    if not results:
        return 0
    lead = population == Population.LEAD.value
    subject_key = "lead_id" if lead else "customer_id"
    ids = [r.entity_id for r in results]
    for start in range(0, len(ids), INSERT_CHUNK):
        tenant_execute(
            session,
            _supersede_statement(lead, session.get_bind().dialect.name == "sqlite"),
            {"of_type": prediction_type, "ids": ids[start : start + INSERT_CHUNK]},
        )
    valid_until = as_of + validity_for(prediction_type, settings)
    tenant_id = session_tenant(session)
    shared = {
        "tenant_id": tenant_id,
        "prediction_type": prediction_type,
        "predicted_at": as_of,
        "valid_until": valid_until,
        "status": PredictionStatus.ACTIVE.value,
        "latency_ms": latency_ms,
        "job_id": job_id,
    }
    own = (
        subject_key,
        "model_version_id",
        "probability",
        "predicted_value",
        "confidence",
        "outputs",
        "contributions",
        "explanation",
        # "challenger" for rows a running deployment routed to it (ADR 0008), "rules" for
        # the rule-based scorer's.
        "served_by",
    )
    values = [
        (
            r.entity_id,
            r.model_version_id or model_version_id,
            r.probability,
            r.predicted_value,
            r.confidence,
            r.outputs,
            {**r.contributions, "values": r.values},
            r.explanation,
            r.served_by,
        )
        for r in results
    ]
    for start in range(0, len(values), INSERT_CHUNK):
        chunk = values[start : start + INSERT_CHUNK]
        if loaded is None:
            insert_many(session.connection(), _TABLE, shared=shared, columns=own, rows=chunk)
        else:
            rows = [{**shared, **dict(zip(own, row, strict=True))} for row in chunk]
            loaded.extend(_insert_returning(session, rows))
    return len(values)


def latest_predictions(
    session: Session,
    *,
    population: str,
    entity_ids: Sequence[int],
    prediction_type: str,
) -> dict[int, Prediction]:
    """Each entity's newest prediction of the type (by predicted_at, then id), whatever its
    status or validity: its history, not its current answer (serving decides that). For the
    lead-ml document's latest-prediction endpoint, which says whether it has expired, and
    its bulk request's minScore filter, which reads the score last predicted."""
    ids = list(dict.fromkeys(int(i) for i in entity_ids))
    if not ids:
        return {}
    lead = population == Population.LEAD.value
    subject = Prediction.lead_id if lead else Prediction.customer_id
    newest = (
        sa.select(
            Prediction.id,
            sa.func.row_number()
            .over(
                partition_by=subject,
                order_by=(Prediction.predicted_at.desc(), Prediction.id.desc()),
            )
            .label("position"),
        )
        .where(subject.in_(ids), Prediction.prediction_type == prediction_type)
        .subquery()
    )
    rows = session.scalars(
        sa.select(Prediction)
        .join(newest, newest.c.id == Prediction.id)
        .where(newest.c.position == 1)
    )
    found: dict[int, Prediction] = {}
    for prediction in rows:
        entity_id = prediction.lead_id if lead else prediction.customer_id
        if entity_id is not None:
            found[int(entity_id)] = prediction
    return found


def score_and_record(
    session: Session,
    *,
    prediction_type: str,
    kind: str | None = None,
    entity_ids: list[int] | None = None,
    as_of: datetime | None = None,
    settings: Settings | None = None,
) -> ScoringRun:
    started = time.perf_counter()
    run = score_entities(
        session, prediction_type=prediction_type, kind=kind, entity_ids=entity_ids, as_of=as_of
    )
    # Each row's share of the run's time (features, model, explanations, narratives).
    share = (time.perf_counter() - started) * 1000 / max(len(run.results), 1)
    record_run(session, run=run, settings=settings, latency_ms=round(share, 3))
    return run
