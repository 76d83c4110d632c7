"""Features from entity columns: typed columns and the JSON attributes of any import.

Each column is usable or not by its role (policy.py) and the build's mode. Values are static per
entity except dates, which become "days since" at each row's snapshot time; in point-in-time
mode a date after the snapshot time is unknown then and reads as missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from propensity.features.definitions import (
    FeatureDefinition,
    FeatureGroup,
    FeatureKind,
    FeatureSet,
    Source,
    categorical,
    safe_name,
)
from propensity.features.loading import Entities, to_us
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


def email_domains(emails: pd.Series) -> pd.Series:
    text = emails.astype(object).where(emails.notna(), None)
    domain = text.map(
        lambda v: v.rsplit("@", 1)[1].strip().lower() if isinstance(v, str) and "@" in v else None
    )
    return domain.where(domain.map(lambda d: bool(d) and "." in str(d)), None)


def email_domain_types(domains: pd.Series) -> pd.Series:
    """corporate / free / other (no usable domain, or a school or government address)."""

    def classify(domain: object) -> str:
        if not isinstance(domain, str) or not domain:
            return "other"
        if domain in FREE_MAIL_DOMAINS:
            return "free"
        return "other" if OTHER_DOMAIN.search(domain) else "corporate"

    return domains.map(classify).astype(object)


def add_email_domain_type(out: FeatureSet, entities: Entities, rows: Rows, *, api: bool) -> None:
    types = email_domain_types(email_domains(entities.columns["email"]))
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
        types.to_numpy(dtype=object)[rows.code],
    )


def _days_since(stamps: IntArray, rows: Rows, *, point_in_time: bool) -> np.ndarray:
    at = stamps[rows.code]
    out = np.full(len(rows), np.nan)
    known = at != NO_START
    out[known] = (rows.t[known] - at[known]) / US_PER_DAY
    if point_in_time:
        out[known & (at >= rows.t)] = np.nan
    return out


def _typed_values(
    name: str, column: TypedColumn, raw: pd.Series, rows: Rows, *, point_in_time: bool
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
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        return name, FeatureKind.NUMERIC, values[rows.code], f"the {name} column"
    if column.type == "bool":
        values = raw.map(lambda v: np.nan if v is None else float(bool(v))).to_numpy(dtype=float)
        return name, FeatureKind.BOOLEAN, values[rows.code], f"the {name} column (1 = true)"
    text = raw.map(lambda v: None if v is None or v != v else str(v)).to_numpy(dtype=object)
    return name, FeatureKind.CATEGORICAL, text[rows.code], f"the {name} column"


def add_column_features(
    out: FeatureSet,
    entities: Entities,
    rows: Rows,
    *,
    policy: ColumnPolicy,
    point_in_time: bool,
) -> list[str]:
    """Adds every usable typed column and attribute; returns the names left out as
    current-state or outcome columns (for the data summary)."""
    typed = CUSTOMER_COLUMNS if entities.subject == "customer" else LEAD_COLUMNS
    left_out: list[str] = []
    for name, column in typed.items():
        raw = entities.columns[name]
        if not policy.usable(name, column.role, point_in_time=point_in_time):
            if raw.notna().any():
                left_out.append(name)
            continue
        if not raw.notna().any():
            continue
        feature, kind, values, how = _typed_values(
            name, column, raw, rows, point_in_time=point_in_time
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
            ),
            values,
        )
    outcomes = CUSTOMER_OUTCOMES if entities.subject == "customer" else LEAD_OUTCOMES
    for name in sorted(str(c) for c in entities.attributes.columns):
        role = attribute_role(name, outcomes=outcomes)
        if role is ColumnRole.OUTCOME or not policy.usable(name, role, point_in_time=point_in_time):
            left_out.append(name)
            continue
        _add_attribute(out, name, entities.attributes[name], rows, point_in_time=point_in_time)
    return left_out


def _add_attribute(
    out: FeatureSet, name: str, raw: pd.Series, rows: Rows, *, point_in_time: bool
) -> None:
    present = raw.dropna()
    if present.empty:
        return
    feature = safe_name(name)
    if feature in out:
        feature = f"attr_{feature}"
    base = f"imported attribute '{name}'"
    is_bool = present.map(lambda v: isinstance(v, bool)).all()
    is_number = present.map(lambda v: isinstance(v, int | float) and not isinstance(v, bool)).all()
    if is_bool:
        values = raw.map(lambda v: np.nan if v is None or v != v else float(bool(v)))
        kind, group, how = FeatureKind.BOOLEAN, FeatureGroup.DEMOGRAPHIC, f"{base} (1 = true)"
        array = values.to_numpy(dtype=float)[rows.code]
    elif is_number:
        kind, group, how = FeatureKind.NUMERIC, FeatureGroup.DEMOGRAPHIC, base
        array = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)[
            rows.code
        ]
    else:
        text = present.map(str)
        if text.map(lambda v: bool(_ISO_DATE.match(v))).mean() >= 0.95:
            stamps = to_us(
                raw.map(lambda v: v if isinstance(v, str) and _ISO_DATE.match(v) else None),
                fill=NO_START,
            )
            feature = f"days_since_{feature}" if f"days_since_{feature}" not in out else feature
            kind, group = FeatureKind.NUMERIC, FeatureGroup.TEMPORAL
            how = f"days from {base} (a date) to the snapshot time"
            array = _days_since(stamps, rows, point_in_time=point_in_time)
        else:
            if len(present) > IDENTIFIER_MIN_ROWS and text.nunique() == len(present):
                return
            kind, group, how = FeatureKind.CATEGORICAL, FeatureGroup.DEMOGRAPHIC, base
            array = raw.map(lambda v: None if v is None or v != v else str(v)).to_numpy(
                dtype=object
            )[rows.code]
    out.add(
        FeatureDefinition(
            name=feature,
            group=group,
            kind=kind,
            description=f"Imported attribute {name}",
            computation=how,
            source=Source.COLUMN,
        ),
        array,
    )
