"""Which entity columns may be features, and when.

A column is one of:

- STATIC: true at any snapshot time (industry, region, title, source, budget...). Always usable.
- CURRENT_STATE: describes the entity "as of now" (health_score, last_login_at,
  payment_failures...). Fine when the training set is a single snapshot "now" (a static export
  such as the Telco file), but it LEAKS when training from past snapshot times: the value was
  written after t, often after the outcome (a churned subscriber's watch time is the time before
  churning). Excluded in point-in-time mode; events and health history give the equivalent.
- OUTCOME: the label itself (churned, churned_at, converted, converted_at, lost_at). Never a
  feature.
- IDENTIFIER: keys, names and bookkeeping. Never a feature (derived flags such as has_company
  are computed from some of them).

JSON attributes (the importer's extra columns) are STATIC unless their name says otherwise
(`CURRENT_STATE_HINTS`). `ColumnPolicy` overrides any of this per build (a tenant setting
later), e.g. `ColumnPolicy(static={"device_count"})` when a tenant knows device counts never
change, or `ColumnPolicy(current_state={"seats"})`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from propensity.errors import InvalidInput
from propensity.features.definitions import FeatureGroup


class ColumnRole(StrEnum):
    STATIC = "static"
    CURRENT_STATE = "current_state"
    OUTCOME = "outcome"
    IDENTIFIER = "identifier"


@dataclass(frozen=True)
class TypedColumn:
    role: ColumnRole
    group: FeatureGroup
    # "number", "bool", "text", "time" (a timestamp or date: becomes days since it at t)
    type: str
    description: str


_S, _C = ColumnRole.STATIC, ColumnRole.CURRENT_STATE
_DEMO, _BEH, _TEMP, _ENG = (
    FeatureGroup.DEMOGRAPHIC,
    FeatureGroup.BEHAVIORAL,
    FeatureGroup.TEMPORAL,
    FeatureGroup.ENGAGEMENT,
)

# Typed customer columns that can be features (identifiers and outcomes are not listed).
CUSTOMER_COLUMNS: dict[str, TypedColumn] = {
    "plan": TypedColumn(_S, _DEMO, "text", "Plan (taken as stable over time)"),
    "affinity_card": TypedColumn(_S, _DEMO, "bool", "Holds an affinity card"),
    "arr": TypedColumn(_C, _DEMO, "number", "Annual recurring revenue as of now"),
    "health_score": TypedColumn(_C, _ENG, "number", "Health score as of now"),
    "renewal_date": TypedColumn(_C, _TEMP, "time", "Next renewal date as of now"),
    "watch_time_hours": TypedColumn(_C, _BEH, "number", "Hours watched, last 30 days as of now"),
    "device_count": TypedColumn(_C, _BEH, "number", "Devices as of now"),
    "last_login_at": TypedColumn(_C, _TEMP, "time", "Last login as of now"),
    "payment_failures": TypedColumn(_C, _BEH, "number", "Failed payments to date"),
    "tenure_months": TypedColumn(_C, _TEMP, "number", "Tenure in months as of now"),
    "lifetime_value": TypedColumn(_C, _BEH, "number", "Lifetime value to date"),
    "membership_years": TypedColumn(_C, _TEMP, "number", "Membership in years as of now"),
    "total_purchases": TypedColumn(_C, _BEH, "number", "Purchases to date"),
    "login_frequency": TypedColumn(_C, _BEH, "number", "Logins per week as of now"),
    "last_purchase_at": TypedColumn(_C, _TEMP, "time", "Last purchase as of now"),
}
CUSTOMER_OUTCOMES = frozenset({"churned", "churned_at"})
CUSTOMER_IDENTIFIERS = frozenset(
    {"id", "external_id", "customer_id", "kind", "name", "email", "account_type", "created_at"}
)

LEAD_COLUMNS: dict[str, TypedColumn] = {
    "config": TypedColumn(_S, _DEMO, "text", "Lead scoring configuration"),
    "source": TypedColumn(_S, _DEMO, "text", "Lead source"),
    "budget": TypedColumn(_S, _DEMO, "number", "Stated budget"),
    "timeline": TypedColumn(_S, _DEMO, "text", "Stated buying timeline"),
    "property_type": TypedColumn(_S, _DEMO, "text", "Wanted property type"),
    "location": TypedColumn(_S, _DEMO, "text", "Location"),
    # The expected value is revised as the deal progresses and replaced by the realised value
    # on conversion.
    "deal_value": TypedColumn(_C, _DEMO, "number", "Deal value as of now"),
}
LEAD_OUTCOMES = frozenset({"converted", "converted_at", "lost_at"})
LEAD_IDENTIFIERS = frozenset(
    {"id", "external_id", "lead_id", "name", "email", "company", "title", "phone", "created_at"}
)

# Attribute names that read as "as of now": dates of the latest something, running totals,
# tenure, statuses and outcomes.
CURRENT_STATE_HINTS = re.compile(
    r"(^last_|^latest_|^total_|^num_|^days_since|_at$|_date$|tenure|lifetime|churn|convert"
    r"|status|^current_|_to_date$|balance)",
    re.IGNORECASE,
)


@dataclass(frozen=True, kw_only=True)
class ColumnPolicy:
    """Per-build overrides of column roles, by column or attribute name."""

    static: frozenset[str] = field(default_factory=frozenset)
    current_state: frozenset[str] = field(default_factory=frozenset)
    exclude: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(
        cls,
        *,
        static: Iterable[str] = (),
        current_state: Iterable[str] = (),
        exclude: Iterable[str] = (),
    ) -> ColumnPolicy:
        return cls(
            static=frozenset(static),
            current_state=frozenset(current_state),
            exclude=frozenset(exclude),
        )

    def __post_init__(self) -> None:
        both = self.static & self.current_state
        if both:
            raise InvalidInput(
                f"Columns cannot be both static and current-state: {', '.join(sorted(both))}."
            )
        outcomes = (self.static | self.current_state) & (CUSTOMER_OUTCOMES | LEAD_OUTCOMES)
        if outcomes:
            raise InvalidInput(
                f"Outcome columns are never features: {', '.join(sorted(outcomes))}."
            )

    def role(self, name: str, default: ColumnRole) -> ColumnRole:
        if name in self.static:
            return ColumnRole.STATIC
        if name in self.current_state:
            return ColumnRole.CURRENT_STATE
        return default

    def usable(self, name: str, default: ColumnRole, *, point_in_time: bool) -> bool:
        """Whether a column may be a feature in this mode."""
        if name in self.exclude:
            return False
        role = self.role(name, default)
        if role is ColumnRole.STATIC:
            return True
        return role is ColumnRole.CURRENT_STATE and not point_in_time


# Attribute names that are (or restate) an outcome: a file imported without `--label` keeps its
# churn column as an attribute, and it must not become a feature of its own label.
OUTCOME_HINTS = re.compile(
    r"^(is_|has_)?(churn|churned|churn_flag|converted|conversion|won|lost|closed_won|closed_lost)"
    r"(_at|_date|_flag|_reason)?$",
    re.IGNORECASE,
)


def attribute_role(name: str, *, outcomes: frozenset[str]) -> ColumnRole:
    if name in outcomes or OUTCOME_HINTS.match(name):
        return ColumnRole.OUTCOME
    return ColumnRole.CURRENT_STATE if CURRENT_STATE_HINTS.search(name) else ColumnRole.STATIC
