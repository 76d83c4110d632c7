"""Every feature a prediction type can have, listed by running the feature code on an empty
table in which every known event type, health history and every typed column exist.

Imported attributes (any extra column) and unknown event types add features at build time;
they cannot be listed in advance.
"""

from __future__ import annotations

import numpy as np

from propensity.features.attributes import Rows
from propensity.features.builder import Context, compute_features
from propensity.features.columns import Columns, object_array
from propensity.features.definitions import KNOWN_EVENT_TYPES, FeatureDefinition
from propensity.features.health import HealthHistory
from propensity.features.history import HEALTH_DIMENSIONS, Events, Health
from propensity.features.loading import Entities
from propensity.features.policy import CUSTOMER_COLUMNS, LEAD_COLUMNS, ColumnPolicy
from propensity.features.streams import EventStreams
from propensity.vocabulary import PredictionType

_SAMPLE = {"number": 1.0, "bool": True, "text": "x", "time": "2024-01-01T00:00:00+00:00"}
# Event types each kind of entity has in a typical CRM (and in the demo data).
TYPICAL_EVENT_TYPES = {
    "account": tuple(
        t for t in KNOWN_EVENT_TYPES if t not in ("watch", "purchase", "payment_failed")
    ),
    "subscriber": ("login", "watch", "purchase", "payment_failed"),
    None: tuple(KNOWN_EVENT_TYPES),
}


def declared_features(
    prediction_type: str,
    *,
    kind: str | None = None,
    point_in_time: bool = True,
    event_types: tuple[str, ...] | None = None,
) -> list[FeatureDefinition]:
    """The declared features of a prediction type (and customer kind) for the typical event
    types of that kind, or for `event_types`."""
    ptype = PredictionType.parse(prediction_type)
    is_lead = ptype in (PredictionType.CONVERSION, PredictionType.TIME_TO_CLOSE)
    if ptype is PredictionType.HEALTH_TREND:
        kind = "account"
    typed = LEAD_COLUMNS if is_lead else CUSTOMER_COLUMNS
    unset = ("email", "churned", "account_type", "converted", "company", "title", "phone")
    columns = Columns(
        {
            **{name: object_array([_SAMPLE[c.type]], 1) for name, c in typed.items()},
            **{name: object_array([None], 1) for name in unset},
            "converted_at_us": np.zeros(1, dtype=np.int64),
            "lost_at_us": np.zeros(1, dtype=np.int64),
        },
        length=1,
    )
    entities = Entities(
        subject="lead" if is_lead else "customer",
        kind=None if is_lead else kind,
        ids=np.zeros(1, dtype=np.int64),
        external_ids=np.asarray(["x"], dtype=object),
        created=np.zeros(1, dtype=np.int64),
        ended=np.zeros(1, dtype=np.int64),
        columns=columns,
        attributes=Columns({}, length=1),
    )
    present = event_types or TYPICAL_EVENT_TYPES[None if is_lead else kind]
    empty = np.zeros(0, dtype=np.int64)
    events = Events(
        code=empty,
        time=empty,
        type_code=np.zeros(0, dtype=np.int32),
        type_names=(),
        value=np.zeros(0),
        ticket=np.zeros(0, dtype=object),
        sequence_step=np.zeros(0),
        present_types=tuple(sorted(present)),
    )
    health = None
    if not is_lead and kind == "account":
        names = ("overall", *HEALTH_DIMENSIONS)
        health = Health(code=empty, time=empty, scores={n: np.zeros(0) for n in names})
    context = Context(
        prediction_type=ptype,
        kind=entities.kind,
        entities=entities,
        events=events,
        streams=EventStreams(events),
        health=health,
        history=HealthHistory(health) if health is not None else None,
    )
    features, _ = compute_features(
        context, Rows(code=empty, t=empty), point_in_time=point_in_time, policy=ColumnPolicy()
    )
    return features.definitions
