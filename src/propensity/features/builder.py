"""Training sets and scoring frames: one feature computation for both.

`build_training_set` picks snapshot times, the population alive at each, the labels from
(t, t + horizon], then computes features for those (entity, t) rows. `build_scoring_frame`
computes the same features for (entity, as_of) rows. Both call `_compute`, so for the same
entity and time the values are identical.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.errors import InsufficientData, InvalidInput
from propensity.features.attributes import (
    ColumnPlan,
    Rows,
    add_column_features,
    add_email_domain_type,
)
from propensity.features.customers import add_event_features, add_time_features
from propensity.features.definitions import FeatureDefinition, FeatureKind, FeatureSet
from propensity.features.health import HealthHistory, add_health_features
from propensity.features.history import (
    HEALTH_DIMENSIONS,
    Events,
    Health,
    health_present,
    load_events,
    load_health,
)
from propensity.features.lead_columns import add_lead_demographics
from propensity.features.leads import add_lead_activity
from propensity.features.loading import Entities, load_customers, load_leads
from propensity.features.online import tenant_shape
from propensity.features.policy import ColumnPolicy
from propensity.features.snapshots import DataRange, has_dated_outcomes, has_flag_outcomes
from propensity.features.state import OnlineStreams, no_events, online_health
from propensity.features.state_store import load_states
from propensity.features.streams import EventStreams
from propensity.features.times import to_us
from propensity.features.windows import NO_START, IntArray
from propensity.modeling.encoding import SMALL_BATCH
from propensity.modeling.table import Table, text_column
from propensity.models import Customer
from propensity.vocabulary import PredictionType

POINT_IN_TIME = "point_in_time"
STATIC = "static"
DEFAULT_HORIZON_DAYS = {
    PredictionType.CHURN: 90,
    PredictionType.CONVERSION: 90,
    PredictionType.TIME_TO_CLOSE: 90,
    PredictionType.HEALTH_TREND: 30,
}
CUSTOMER_KINDS = ("account", "subscriber")
HEALTH_SCORES = ("overall", *HEALTH_DIMENSIONS)


@dataclass(frozen=True, kw_only=True)
class Context:
    """Everything loaded for one build."""

    prediction_type: PredictionType
    kind: str | None
    entities: Entities
    events: Events
    streams: EventStreams
    health: Health | None
    history: HealthHistory | None
    # The whole table's column plan when `entities` holds only the requested rows (online).
    plan: ColumnPlan | None = None

    @property
    def customers_only(self) -> bool:
        """Account churn and health trend model paying customers, not prospects on a trial."""
        return self.kind == "account"


def resolve_kind(session: Session, prediction_type: PredictionType, kind: str | None) -> str | None:
    if prediction_type in (PredictionType.CONVERSION, PredictionType.TIME_TO_CLOSE):
        return None
    if kind is not None:
        kind = kind.strip().lower()
        if kind not in CUSTOMER_KINDS:
            raise InvalidInput(f"Unknown customer kind {kind!r}; expected account or subscriber.")
        if prediction_type is PredictionType.HEALTH_TREND and kind != "account":
            raise InvalidInput("Health trend is predicted for accounts only.")
        return kind
    if prediction_type is PredictionType.HEALTH_TREND:
        return "account"
    kinds = sorted(str(k) for k in session.execute(sa.select(Customer.kind).distinct()).scalars())
    if len(kinds) == 1:
        return kinds[0]
    if not kinds:
        raise InsufficientData("There are no customers to predict churn for.")
    raise InvalidInput(
        "This tenant has both accounts and subscribers; churn models are separate per kind. "
        "Pass kind='account' or kind='subscriber'.",
        details={"kinds": kinds},
    )


def _is_lead_type(prediction_type: PredictionType) -> bool:
    """Whether the features of this trained type describe leads (else customers)."""
    return prediction_type in (PredictionType.CONVERSION, PredictionType.TIME_TO_CLOSE)


def load_entities(
    session: Session, *, prediction_type: PredictionType, kind: str | None
) -> Entities:
    """The whole entity table a build of this type reads: every lead, or every customer of
    `kind`."""
    if _is_lead_type(prediction_type):
        return load_leads(session)
    return load_customers(session, kind=kind)


def load_context(
    session: Session,
    *,
    prediction_type: PredictionType,
    kind: str | None,
    ids: IntArray | None = None,
    online: tuple[ColumnPolicy, bool] | None = None,
    as_of_us: int | None = None,
    entities: Entities | None = None,
) -> Context:
    """The whole entity table always (which columns and attributes exist must not depend on
    which entities are scored), and the events and health of `ids` or of all.

    `online` = (policy, point_in_time) with `ids`: load only the rows of `ids` and take the
    tenant-wide facts from the cached shape (online.py) instead; the features are the same.
    With `as_of_us` too (the one time the features are wanted at), the entities' events and
    health come from their stored states (state.py) when those answer that time exactly.
    Without `online`, `entities` is the whole table when the caller has loaded it already."""
    is_lead = _is_lead_type(prediction_type)
    if online is not None and ids is not None:
        subject = "lead" if is_lead else "customer"
        shape = tenant_shape(
            session, subject=subject, kind=kind, policy=online[0], point_in_time=online[1]
        )
        entities = (
            load_leads(session, ids=ids) if is_lead else load_customers(session, kind=kind, ids=ids)
        )
        plan: ColumnPlan | None = shape.plan
        present_types = shape.present_types
        has_health = shape.has_health
        if as_of_us is not None:
            stored = _from_states(
                session,
                prediction_type=prediction_type,
                kind=kind,
                entities=entities,
                present_types=present_types,
                has_health=has_health,
                as_of_us=as_of_us,
            )
            if stored is not None:
                return replace(stored, plan=plan)
    else:
        if entities is None:
            entities = load_entities(session, prediction_type=prediction_type, kind=kind)
        plan = present_types = None
        has_health = None
    events = load_events(session, entities, ids=ids, present_types=present_types)
    health: Health | None = None
    if not is_lead:
        loaded = load_health(session, entities, ids=ids)
        wanted = prediction_type is PredictionType.HEALTH_TREND
        if wanted or len(loaded):
            health = loaded
        elif ids is not None:
            present = has_health if has_health is not None else health_present(session, entities)
            health = loaded if present else None
    return Context(
        prediction_type=prediction_type,
        kind=kind,
        entities=entities,
        events=events,
        streams=EventStreams(events),
        health=health,
        history=HealthHistory(health) if health is not None else None,
        plan=plan,
    )


def _from_states(
    session: Session,
    *,
    prediction_type: PredictionType,
    kind: str | None,
    entities: Entities,
    codes: IntArray | None = None,
    present_types: tuple[str, ...] | None,
    has_health: bool,
    as_of_us: int,
) -> Context | None:
    """The context of the entities `codes` (default: all) from their stored states, None when a
    state is missing, stale for this time, or does not know a stream the features ask for (then
    the history is read)."""
    if codes is None:
        codes = np.arange(len(entities), dtype=np.int64)
    states = load_states(
        session,
        subject=entities.subject,
        ids=entities.ids[codes],
        codes=codes,
        as_of_us=as_of_us,
    )
    if states is None:
        return None
    types = present_types
    if types is None:  # leads: the features do not depend on which types the tenant has
        types = tuple(sorted(set().union(*(schema.types for schema in states.distinct))))
    health: Health | None = None
    if entities.subject != "lead":
        stored = online_health(states, names=HEALTH_SCORES)
        if prediction_type is PredictionType.HEALTH_TREND or len(stored) or has_health:
            health = stored
    return Context(
        prediction_type=prediction_type,
        kind=kind,
        entities=entities,
        events=no_events(types),
        streams=OnlineStreams(states, present_types=types),
        health=health,
        # The states keep each entity's snapshots in time order, and the entities in order.
        history=HealthHistory(health, presorted=True) if health is not None else None,
    )


def load_stored_context(
    session: Session,
    *,
    prediction_type: PredictionType,
    kind: str | None,
    entities: Entities,
    codes: IntArray,
    policy: ColumnPolicy,
    as_of_us: int,
) -> Context | None:
    """The context of many entities (`codes` of the whole `entities` table) from their stored
    states, for a point-in-time build at `as_of_us`: the portfolio's and a batch's path, which
    then reads no event. None when any state cannot answer (the caller reads the history)."""
    shape = tenant_shape(
        session,
        subject=entities.subject,
        kind=kind,
        policy=policy,
        point_in_time=True,
        entities=entities,
    )
    return _from_states(
        session,
        prediction_type=prediction_type,
        kind=kind,
        entities=entities,
        codes=codes,
        present_types=shape.present_types,
        has_health=shape.has_health,
        as_of_us=as_of_us,
    )


def compute_features(
    context: Context, rows: Rows, *, point_in_time: bool, policy: ColumnPolicy
) -> tuple[FeatureSet, list[str]]:
    """The features of (entity, t) rows, and the columns left out by the leakage rules."""
    out = FeatureSet(len(rows))
    entities = context.entities
    if entities.subject == "lead":
        add_lead_demographics(out, entities, rows)
        left_out = add_column_features(
            out, entities, rows, policy=policy, point_in_time=point_in_time, plan=context.plan
        )
        add_lead_activity(out, context.streams, entities, rows)
        return out, left_out
    left_out = add_column_features(
        out, entities, rows, policy=policy, point_in_time=point_in_time, plan=context.plan
    )
    add_email_domain_type(out, entities, rows, api=False)
    add_time_features(out, entities, rows)
    add_event_features(out, context.streams, entities, rows)
    if context.history is not None:
        add_health_features(out, context.history, rows)
    return out, left_out


def detect_mode(context: Context) -> str:
    """point_in_time when outcomes have dates (or there is nothing to label), static when the
    only outcome is a yes/no flag (a CSV export such as the Telco file)."""
    if has_dated_outcomes(context.entities) or not has_flag_outcomes(context.entities):
        return POINT_IN_TIME
    return STATIC


def us_of(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(to_us([value.astimezone(UTC)], fill=NO_START)[0])


def static_time(context: Context, data_end: datetime | None) -> int:
    """The single "now" of a static data set: the latest timestamp in it, else the clock."""
    if data_end is not None:
        return us_of(data_end)
    end = DataRange.of(context.entities, context.events, context.health).end
    return end if end is not None else us_of(datetime.now(UTC))


def times_series(t: IntArray) -> pd.Series:
    return pd.Series(np.asarray(t, dtype=np.int64).astype("datetime64[us]")).dt.tz_localize("UTC")


def stamp(us: int | None) -> datetime | None:
    if us is None:
        return None
    return pd.Timestamp(us, unit="us", tz="UTC").to_pydatetime()


def to_python(value: Any) -> Any:
    """A JSON-ready scalar: NaN -> None, numpy types -> Python, whole floats stay floats."""
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def select_columns(
    features: FeatureSet, names: Sequence[str] | None
) -> tuple[Table, tuple[FeatureDefinition, ...]]:
    """The computed columns, restricted to (and ordered as) `names` when given; a name this
    build did not produce becomes an all-missing column, as the modeling engine treats absent
    ones. No DataFrame is built (modeling/table.py): scoring a few entities reads the columns
    directly, and `to_frame()` gives the frame for the readers that want one."""
    definitions = {d.name: d for d in features.definitions}
    if names is None:
        names = list(definitions)
    n = features.n_rows
    # Categories are text whatever the rows: otherwise the column type would follow the values,
    # so a build of one entity without a plan could come out typed differently from the same
    # row in a build of all. A few rows convert in Python; many through pandas' "str".
    absent = np.full(n, np.nan)
    columns: dict[str, np.ndarray | pd.Series] = {}
    text: list[str] = []
    for name in names:
        definition = definitions.get(name)
        if definition is None:
            columns[name] = absent.copy()
        elif definition.kind is FeatureKind.CATEGORICAL:
            values = features.get(name)
            columns[name] = (
                text_column(values) if n <= SMALL_BATCH else pd.Series(values, dtype="str")
            )
            text.append(name)
        else:
            columns[name] = features.get(name)
    table = Table(columns, n, text=text)
    return table, tuple(definitions[n] for n in names if n in definitions)
