"""What a feature is: name, group, kind, description and how it is computed.

Definitions are created by the same function that computes the values (`FeatureSet.add`), so a
declaration can never drift from its code. `propensity.features.catalog` runs that code on an
empty table to list every feature a prediction type can have.

Group and kind values are the plain strings the modeling engine uses
(`FeatureSpec.from_dict(definition.to_dict())` works unchanged).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache, partial

import numpy as np
import pandas as pd


class FeatureGroup(StrEnum):
    DEMOGRAPHIC = "demographic"
    BEHAVIORAL = "behavioral"
    TEMPORAL = "temporal"
    ENGAGEMENT = "engagement"


class FeatureKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    # Never produced by this package: dates become "days since" at the snapshot time, which
    # means the same thing at every snapshot. Kept so the vocabulary matches the engine's.
    DATETIME = "datetime"


class Source(StrEnum):
    """Where a feature's values come from (documentation and the leakage rules)."""

    COLUMN = "column"  # a customer/lead column or JSON attribute
    EVENTS = "events"
    HEALTH = "health"
    TIME = "time"  # the entity's own dates relative to the snapshot time


@dataclass(frozen=True, kw_only=True)
class FeatureDefinition:
    name: str
    group: FeatureGroup
    kind: FeatureKind
    description: str
    computation: str
    source: Source
    # The camelCase key in the lead-ml document's features endpoint, where it has one.
    api_name: str | None = None
    # A clock feature: for an entity with no new data its value moves only because the snapshot
    # time t advances (t minus the entity's creation, last event or an imported date, and
    # functions of those). Its distribution over a population follows the population's age mix,
    # so drift monitoring reports it but does not count it (monitoring/drift.py, ADR 0009).
    clock: bool = False

    def to_dict(self) -> dict[str, str]:
        out = {
            "name": self.name,
            "kind": self.kind.value,
            "group": self.group.value,
            "description": self.description,
            "computation": self.computation,
            "source": self.source.value,
        }
        if self.api_name:
            out["api_name"] = self.api_name
        return out


class FeatureSet:
    """Columns for n rows, each added together with its definition."""

    def __init__(self, n_rows: int) -> None:
        self.n_rows = n_rows
        self._values: dict[str, np.ndarray | pd.Series] = {}
        self._definitions: dict[str, FeatureDefinition] = {}

    def add(self, definition: FeatureDefinition, values: np.ndarray | pd.Series) -> None:
        if definition.name in self._definitions:
            raise ValueError(f"feature {definition.name!r} defined twice")
        if len(values) != self.n_rows:
            raise ValueError(f"feature {definition.name!r}: {len(values)} values for {self.n_rows}")
        self._definitions[definition.name] = definition
        if isinstance(values, pd.Series):
            values = values.reset_index(drop=True)
        self._values[definition.name] = values

    def __contains__(self, name: object) -> bool:
        return name in self._definitions

    def get(self, name: str) -> np.ndarray | pd.Series:
        return self._values[name]

    @property
    def definitions(self) -> list[FeatureDefinition]:
        return list(self._definitions.values())

    def frame(self, columns: dict[str, np.ndarray | pd.Series] | None = None) -> pd.DataFrame:
        """The table of every feature, or of `columns` (values of these rows, by name)."""
        return pd.DataFrame(
            self._values if columns is None else columns, index=pd.RangeIndex(self.n_rows)
        )


# Definitions are immutable and the same on every build, so one instance of each serves all: a
# one-entity build made about a hundred of them per request.
@lru_cache(maxsize=8192)
def define(
    kind: FeatureKind,
    name: str,
    group: FeatureGroup,
    description: str,
    computation: str,
    source: Source,
    api_name: str | None = None,
    *,
    clock: bool = False,
) -> FeatureDefinition:
    return FeatureDefinition(
        name=name,
        group=group,
        kind=kind,
        description=description,
        computation=computation,
        source=source,
        api_name=api_name,
        clock=clock,
    )


def _define(kind: FeatureKind) -> Callable[..., FeatureDefinition]:
    return partial(define, kind)


numeric = _define(FeatureKind.NUMERIC)
boolean = _define(FeatureKind.BOOLEAN)
categorical = _define(FeatureKind.CATEGORICAL)


# Event types the builder knows by name. Other types a tenant imports get generic counts.
KNOWN_EVENT_TYPES: dict[str, str] = {
    "login": "logins",
    "page_view": "page views",
    "feature_use": "feature uses",
    "email_sent": "emails sent to the customer",
    "email_open": "email opens",
    "email_click": "email clicks",
    "email_reply": "email replies",
    "form_submit": "form submissions",
    "meeting": "meetings",
    "call": "calls",
    "demo": "demos",
    "executive_meeting": "executive meetings",
    "ticket_opened": "support tickets opened",
    "ticket_resolved": "support tickets resolved",
    "payment_failed": "failed payments",
    "purchase": "purchases",
    "watch": "viewing summaries",
}
# Types whose `value` is what matters (summed per window) rather than how many events there are.
VALUE_TYPES: dict[str, str] = {"watch": "hours watched", "purchase": "purchase amount"}
# Things the company does to the customer, not the customer's own activity.
OUTBOUND_TYPES = frozenset({"email_sent", "ticket_resolved", "payment_failed"})
# Channel of each activity type, for channel diversity.
CHANNELS: dict[str, str] = {
    "email_open": "email",
    "email_click": "email",
    "email_reply": "email",
    "page_view": "web",
    "form_submit": "form",
    "call": "phone",
    "meeting": "meeting",
    "demo": "meeting",
    "executive_meeting": "meeting",
    "login": "product",
    "feature_use": "product",
    "watch": "product",
    "purchase": "product",
    "ticket_opened": "support",
}
# The activity types of each channel.
CHANNEL_TYPES: dict[str, tuple[str, ...]] = {
    channel: tuple(n for n, c in CHANNELS.items() if c == channel) for channel in CHANNELS.values()
}
# Actions that take deliberate effort from the customer or lead.
HIGH_VALUE_TYPES = frozenset({"form_submit", "meeting", "demo", "email_reply", "executive_meeting"})
ENGAGEMENT_TYPES = frozenset(
    {"email_open", "email_click", "email_reply", "meeting", "call", "demo", "executive_meeting"}
)


def group_of_event_type(event_type: str) -> FeatureGroup:
    return FeatureGroup.ENGAGEMENT if event_type in ENGAGEMENT_TYPES else FeatureGroup.BEHAVIORAL


def safe_name(text: str) -> str:
    """A feature-name fragment for an imported event type or attribute name."""
    cleaned = "".join(ch if ch.isalnum() else "_" for ch in text.strip().lower())
    return "_".join(part for part in cleaned.split("_") if part) or "unnamed"
