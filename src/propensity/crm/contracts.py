"""The import contract: which columns each kind of CRM file may carry, and their types.

Column names here are the names in the file (after any mapping), which is not always the
database column: `customer_id` in a customer file is the customer's `external_id`, while
`customer_id` in an event file names a customer to link to.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal

import sqlalchemy as sa

from propensity.db import Base
from propensity.models import Customer, Event, HealthSnapshot, Lead, PropertySale

ValueType = Literal["str", "float", "int", "bool", "datetime", "date"]

# PostgreSQL's INTEGER; SQLite would store more, but one schema serves both.
MAX_INT32 = 2**31 - 1


class ImportKind(enum.StrEnum):
    CUSTOMERS = "customers"
    LEADS = "leads"
    EVENTS = "events"
    HEALTH = "health"
    DEALS = "deals"


@dataclass(frozen=True, kw_only=True)
class ColumnSpec:
    name: str
    type: ValueType
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    max_length: int | None = None


@dataclass(frozen=True, kw_only=True)
class KindSpec:
    kind: ImportKind
    table: sa.Table
    columns: dict[str, ColumnSpec]
    # File columns that identify a row; duplicates within one file are an error.
    key: tuple[str, ...]
    # Where unknown columns go; None means unknown columns are an error.
    extras: Literal["attributes", "properties"] | None
    # Column that a `--label` outcome column becomes.
    label_target: str | None = None
    # File column -> database column where the names differ and no lookup is involved.
    renames: dict[str, str] = field(default_factory=dict)


def table_of(model: type[Base]) -> sa.Table:
    table = model.__table__
    assert isinstance(table, sa.Table)
    return table


def _text(
    name: str, table: sa.Table, *, db_name: str | None = None, required: bool = False
) -> ColumnSpec:
    length = getattr(table.c[db_name or name].type, "length", None)
    return ColumnSpec(name=name, type="str", max_length=length, required=required)


def _num(name: str, *, minimum: float | None = 0.0, required: bool = False) -> ColumnSpec:
    """Money, durations and rates are non-negative unless said otherwise."""
    return ColumnSpec(name=name, type="float", minimum=minimum, required=required)


def _count(name: str) -> ColumnSpec:
    return ColumnSpec(name=name, type="int", minimum=0, maximum=MAX_INT32)


def _score(name: str, *, required: bool = False) -> ColumnSpec:
    return ColumnSpec(name=name, type="float", minimum=0, maximum=100, required=required)


def _time(name: str, *, required: bool = False) -> ColumnSpec:
    return ColumnSpec(name=name, type="datetime", required=required)


def _by_name(*specs: ColumnSpec) -> dict[str, ColumnSpec]:
    return {spec.name: spec for spec in specs}


_customers = table_of(Customer)
_leads = table_of(Lead)
_events = table_of(Event)
_health = table_of(HealthSnapshot)
_deals = table_of(PropertySale)

CUSTOMER_KINDS = ("account", "subscriber")
ACCOUNT_TYPES = ("CUSTOMER", "PROSPECT")

SPECS: dict[ImportKind, KindSpec] = {
    ImportKind.CUSTOMERS: KindSpec(
        kind=ImportKind.CUSTOMERS,
        table=_customers,
        columns=_by_name(
            _text("customer_id", _customers, db_name="external_id", required=True),
            ColumnSpec(name="kind", type="str", choices=CUSTOMER_KINDS),
            _text("name", _customers),
            _text("email", _customers),
            ColumnSpec(name="account_type", type="str", choices=ACCOUNT_TYPES),
            _text("plan", _customers),
            _num("arr"),
            _score("health_score"),
            ColumnSpec(name="renewal_date", type="date"),
            _time("created_at"),
            _time("churned_at"),
            ColumnSpec(name="churned", type="bool"),
            _num("watch_time_hours"),
            _count("device_count"),
            _time("last_login_at"),
            _count("payment_failures"),
            _num("tenure_months"),
            _num("lifetime_value"),
            _num("membership_years"),
            _count("total_purchases"),
            ColumnSpec(name="affinity_card", type="bool"),
            _num("login_frequency"),
            _time("last_purchase_at"),
        ),
        key=("customer_id",),
        extras="attributes",
        label_target="churned",
        renames={"customer_id": "external_id"},
    ),
    ImportKind.LEADS: KindSpec(
        kind=ImportKind.LEADS,
        table=_leads,
        columns=_by_name(
            _text("lead_id", _leads, db_name="external_id", required=True),
            ColumnSpec(name="config", type="str", max_length=200),
            _text("email", _leads),
            _text("name", _leads),
            _text("company", _leads),
            _text("title", _leads),
            _text("phone", _leads),
            _text("source", _leads),
            _time("created_at"),
            _time("converted_at"),
            _time("lost_at"),
            ColumnSpec(name="converted", type="bool"),
            _num("deal_value"),
            _num("budget"),
            _text("timeline", _leads),
            _text("property_type", _leads),
            _text("location", _leads),
        ),
        key=("lead_id",),
        extras="attributes",
        label_target="converted",
        renames={"lead_id": "external_id"},
    ),
    ImportKind.EVENTS: KindSpec(
        kind=ImportKind.EVENTS,
        table=_events,
        columns=_by_name(
            _text("event_id", _events, db_name="event_key"),
            ColumnSpec(name="customer_id", type="str", max_length=128),
            ColumnSpec(name="lead_id", type="str", max_length=128),
            _text("type", _events, required=True),
            _time("occurred_at", required=True),
            # Signed: refunds and downgrades are events too.
            _num("value", minimum=None),
        ),
        key=("event_id",),
        extras="properties",
    ),
    ImportKind.HEALTH: KindSpec(
        kind=ImportKind.HEALTH,
        table=_health,
        columns=_by_name(
            ColumnSpec(name="customer_id", type="str", max_length=128, required=True),
            ColumnSpec(name="snapshot_date", type="date", required=True),
            _score("overall_score", required=True),
            _score("engagement"),
            _score("product_adoption"),
            _score("support_satisfaction"),
            _score("executive_relationship"),
        ),
        key=("customer_id", "snapshot_date"),
        extras=None,
    ),
    ImportKind.DEALS: KindSpec(
        kind=ImportKind.DEALS,
        table=_deals,
        columns=_by_name(
            _text("deal_id", _deals, db_name="external_id", required=True),
            _text("property_type", _deals),
            _text("location", _deals),
            _num("list_price"),
            _num("sale_price", required=True),
            _time("listed_at"),
            _time("sold_at", required=True),
        ),
        key=("deal_id",),
        extras="attributes",
        renames={"deal_id": "external_id"},
    ),
}


def spec_for(kind: ImportKind | str) -> KindSpec:
    return SPECS[ImportKind(kind)]
