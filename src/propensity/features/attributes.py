"""Features from entity columns: typed columns and the JSON attributes of any import.

Each column is usable or not by its role (policy.py) and the build's mode. Values are static per
entity except dates, which become "days since" at each row's snapshot time; in point-in-time
mode a date after the snapshot time is unknown then and reads as missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from propensity.features.columns import Array, missing
from propensity.features.definitions import (
    FeatureDefinition,
    FeatureGroup,
    FeatureKind,
    FeatureSet,
    Source,
    categorical,
    safe_name,
)
from propensity.features.loading import Entities
from propensity.features.policy import (
    CUSTOMER_COLUMNS,
    CUSTOMER_OUTCOMES,
    LEAD_COLUMNS,
    LEAD_OUTCOMES,
    ColumnPolicy,
    ColumnRole,
    TypedColumn,
    attribute_role,
)
from propensity.features.times import to_us
from propensity.features.windows import NO_START, US_PER_DAY, IntArray

# Common free-mail providers; a lead or customer writing from one is not identified by employer.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "ymail.com", "hotmail.com",
        "hotmail.co.uk", "outlook.com", "live.com", "msn.com", "aol.com", "icloud.com", "me.com",
        "mac.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "gmx.net", "web.de",
        "mail.com", "yandex.com", "yandex.ru", "mail.ru", "qq.com", "163.com", "126.com",
        "zoho.com", "fastmail.com", "hey.com", "tutanota.com",
    }
)  # fmt: skip
# Schools and governments are neither a company nor a private address.
OTHER_DOMAIN = re.compile(r"(\.edu|\.gov|\.mil|\.ac\.[a-z]{2}|\.gov\.[a-z]{2}|\.edu\.[a-z]{2})$")
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"
)
# A text attribute with a distinct value on every row (beyond this many rows) is an identifier.
IDENTIFIER_MIN_ROWS = 50


@dataclass(frozen=True, kw_only=True)
class Rows:
    """The rows of a frame being built: entity code and snapshot time (microseconds)."""

    code: IntArray
    t: IntArray

    def __len__(self) -> int:
        return len(self.code)


T = TypeVar("T")
_UNSEEN: Any = object()


def per_distinct(f: Callable[[Any], T], values: Iterable[Any]) -> list[T]:
    """`[f(v) for v in values]`, with f called once per distinct value: for an f that costs
    more than a lookup (regular expressions, parsing) over values that repeat (titles,
    domains, sizes). Keyed by type as well, because 1, 1.0 and True are one key to a dict
    but not one value to f."""
    seen: dict[tuple[type, Any], T] = {}
    out: list[T] = []
    for value in values:
        key = (value.__class__, value)
        try:
            result = seen.get(key, _UNSEEN)
        except TypeError:  # unhashable: a list or an object in an attribute
            result = f(value)
        else:
            if result is _UNSEEN:
                result = seen[key] = f(value)
        out.append(result)
    return out


def email_domain(value: object) -> str | None:
    """The lower-cased domain after '@', None when there is no usable one."""
    if not isinstance(value, str) or "@" not in value:
        return None
    domain = value.rsplit("@", 1)[1].strip().lower()
    return domain if domain and "." in domain else None


def email_domains(emails: pd.Series) -> pd.Series:
    return pd.Series([email_domain(v) for v in emails.tolist()], dtype=object, index=emails.index)


def email_domain_type(domain: object) -> str:
    """corporate / free / other (no usable domain, or a school or government address)."""
    if not isinstance(domain, str) or not domain:
        return "other"
    if domain in FREE_MAIL_DOMAINS:
        return "free"
    return "other" if OTHER_DOMAIN.search(domain) else "corporate"


def email_domain_types(domains: pd.Series) -> pd.Series:
    return pd.Series(
        [email_domain_type(d) for d in domains.tolist()], dtype=object, index=domains.index
    )


def add_email_domain_type(out: FeatureSet, entities: Entities, rows: Rows, *, api: bool) -> None:
    domains = [email_domain(v) for v in entities.columns["email"].tolist()]
    types = np.array(per_distinct(email_domain_type, domains), dtype=object)
    out.add(
        categorical(
            "email_domain_type",
            FeatureGroup.DEMOGRAPHIC,
            "Email domain type: corporate, free (free-mail provider) or other",
            "domain after '@' of email: 'free' for known free-mail providers, 'other' when there "
            "is no domain or it is a school/government one, else 'corporate'",
            Source.COLUMN,
            api_name="emailDomainType" if api else None,
        ),
        types[rows.code] if len(types) else np.empty(len(rows), dtype=object),
    )


def _mapped(raw: Array, f: Callable[[Any], Any], dtype: Any) -> np.ndarray:
    """f of each value, as an array of `dtype`."""
    return np.array([f(v) for v in raw.tolist()], dtype=dtype)


def _numbers(raw: Array) -> np.ndarray:
    """The values as float64, NaN where one is no number (pandas' to_numeric)."""
    return np.asarray(pd.to_numeric(raw, errors="coerce"), dtype=np.float64)


def _days_since(stamps: IntArray, rows: Rows, *, point_in_time: bool) -> np.ndarray:
    at = stamps[rows.code]
    out = np.full(len(rows), np.nan)
    known = at != NO_START
    out[known] = (rows.t[known] - at[known]) / US_PER_DAY
    if point_in_time:
        out[known & (at >= rows.t)] = np.nan
    return out


def _text(value: Any) -> str | None:
    return None if value is None or value != value else str(value)


def _typed_values(
    name: str, column: TypedColumn, raw: Array, rows: Rows, *, point_in_time: bool
) -> tuple[str, FeatureKind, np.ndarray, str]:
    """Feature name, kind, values and computation text of one typed column."""
    if column.type == "time":
        days = _days_since(to_us(raw, fill=NO_START), rows, point_in_time=point_in_time)
        return (
            f"days_since_{name}",
            FeatureKind.NUMERIC,
            days,
            (f"days from {name} to the snapshot time (negative when {name} is later)"),
        )
    if column.type == "number":
        return name, FeatureKind.NUMERIC, _numbers(raw)[rows.code], f"the {name} column"
    if column.type == "bool":
        values = _mapped(raw, lambda v: np.nan if v is None else float(bool(v)), float)
        return name, FeatureKind.BOOLEAN, values[rows.code], f"the {name} column (1 = true)"
    text = _mapped(raw, _text, object)
    return name, FeatureKind.CATEGORICAL, text[rows.code], f"the {name} column"


@dataclass(frozen=True, kw_only=True)
class ColumnPlan:
    """Which entity columns become features and how each attribute is read.

    Every decision here looks at the whole entity table (a column with no value anywhere is
    skipped; an attribute's kind is inferred from all its values), so a build for a few entities
    must use the plan of the whole table to get the same columns as a build for all of them."""

    typed: tuple[str, ...]  # usable typed columns with a value somewhere
    # (attribute name, how it is read: "bool", "number", "date" or "text"), in name order.
    attributes: tuple[tuple[str, str], ...]
    left_out: tuple[str, ...]  # current-state and outcome columns (for the data summary)


def plan_columns(entities: Entities, *, policy: ColumnPolicy, point_in_time: bool) -> ColumnPlan:
    typed = CUSTOMER_COLUMNS if entities.subject == "customer" else LEAD_COLUMNS
    used: list[str] = []
    left_out: list[str] = []
    for name, column in typed.items():
        present = not missing(entities.columns[name]).all()
        if not policy.usable(name, column.role, point_in_time=point_in_time):
            if present:
                left_out.append(name)
            continue
        if present:
            used.append(name)
    outcomes = CUSTOMER_OUTCOMES if entities.subject == "customer" else LEAD_OUTCOMES
    attributes: list[tuple[str, str]] = []
    for name in sorted(entities.attributes.names):
        role = attribute_role(name, outcomes=outcomes)
        if role is ColumnRole.OUTCOME or not policy.usable(name, role, point_in_time=point_in_time):
            left_out.append(name)
            continue
        how = _attribute_reading(entities.attributes[name])
        if how is not None:
            attributes.append((name, how))
    return ColumnPlan(typed=tuple(used), attributes=tuple(attributes), left_out=tuple(left_out))


def _attribute_reading(raw: Array) -> str | None:
    """How an attribute is read, from all its raw JSON values; None when it is no feature
    (never set, or a text with a distinct value on every row: an identifier)."""
    present = raw[~missing(raw)].tolist()
    if not present:
        return None
    if all(isinstance(v, bool) for v in present):
        return "bool"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "number"
    text = [str(v) for v in present]
    if sum(1 for v in text if _ISO_DATE.match(v)) / len(text) >= 0.95:
        return "date"
    if len(present) > IDENTIFIER_MIN_ROWS and len(set(text)) == len(present):
        return None
    return "text"


def add_column_features(
    out: FeatureSet,
    entities: Entities,
    rows: Rows,
    *,
    policy: ColumnPolicy,
    point_in_time: bool,
    plan: ColumnPlan | None = None,
) -> list[str]:
    """Adds every usable typed column and attribute; returns the names left out as
    current-state or outcome columns (for the data summary). `plan` (see ColumnPlan) defaults
    to the plan of `entities`; pass the whole table's when `entities` holds only a few rows."""
    plan = plan or plan_columns(entities, policy=policy, point_in_time=point_in_time)
    typed = CUSTOMER_COLUMNS if entities.subject == "customer" else LEAD_COLUMNS
    for name in plan.typed:
        column = typed[name]
        feature, kind, values, how = _typed_values(
            name, column, entities.columns[name], rows, point_in_time=point_in_time
        )
        group = FeatureGroup.TEMPORAL if column.type == "time" else column.group
        out.add(
            FeatureDefinition(
                name=feature,
                group=group,
                kind=kind,
                description=column.description,
                computation=how,
                source=Source.COLUMN,
                clock=column.type == "time",
            ),
            values,
        )
    attributes = entities.attributes
    for name, how in plan.attributes:
        # A few rows (online) may have none of an attribute the whole table has.
        raw = (
            attributes[name] if name in attributes else np.full(len(attributes), None, dtype=object)
        )
        _add_attribute(out, name, how, raw, rows, point_in_time=point_in_time)
    return list(plan.left_out)


def _add_attribute(
    out: FeatureSet, name: str, how_read: str, raw: Array, rows: Rows, *, point_in_time: bool
) -> None:
    feature = safe_name(name)
    if feature in out:
        feature = f"attr_{feature}"
    base = f"imported attribute '{name}'"
    if how_read == "bool":
        values = _mapped(raw, lambda v: np.nan if v is None or v != v else float(bool(v)), float)
        kind, group, how = FeatureKind.BOOLEAN, FeatureGroup.DEMOGRAPHIC, f"{base} (1 = true)"
        array = values[rows.code]
    elif how_read == "number":
        kind, group, how = FeatureKind.NUMERIC, FeatureGroup.DEMOGRAPHIC, base
        array = _numbers(raw)[rows.code]
    elif how_read == "date":
        stamps = to_us(
            [v if isinstance(v, str) and _ISO_DATE.match(v) else None for v in raw.tolist()],
            fill=NO_START,
        )
        feature = f"days_since_{feature}" if f"days_since_{feature}" not in out else feature
        kind, group = FeatureKind.NUMERIC, FeatureGroup.TEMPORAL
        how = f"days from {base} (a date) to the snapshot time"
        array = _days_since(stamps, rows, point_in_time=point_in_time)
    else:
        kind, group, how = FeatureKind.CATEGORICAL, FeatureGroup.DEMOGRAPHIC, base
        array = _mapped(raw, _text, object)[rows.code]
    out.add(
        FeatureDefinition(
            name=feature,
            group=group,
            kind=kind,
            description=f"Imported attribute {name}",
            computation=how,
            source=Source.COLUMN,
            clock=how_read == "date",
        ),
        array,
    )
