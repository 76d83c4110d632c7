"""Lead demographics: the lead-ml document's demographic group, from the lead's columns.

Static facts of the lead (a title or an email domain does not change with the snapshot time).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from propensity.features.attributes import Rows, add_email_domain_type, per_distinct
from propensity.features.columns import Array, Columns
from propensity.features.definitions import (
    FeatureGroup,
    FeatureSet,
    Source,
    boolean,
    categorical,
)
from propensity.features.loading import Entities
from propensity.features.windows import FloatArray

ObjectArray = npt.NDArray[np.object_]

_DEMO, _C = FeatureGroup.DEMOGRAPHIC, Source.COLUMN

SENIORITY_RULES = (
    ("vp", re.compile(r"\bvp\b|\bsvp\b|\bevp\b|vice[ -]president")),
    ("c_level", re.compile(r"\bchief\b|\bc[a-z]o\b|founder|president|\bowner\b")),
    ("director", re.compile(r"director|\bhead\b")),
    ("manager", re.compile(r"manager|\blead\b|supervisor")),
)
COMPANY_SIZE_ATTRIBUTES = ("company_size", "employee_count", "employees", "num_employees")
SIZE_BUCKETS = ((50, "small"), (1000, "medium"), (10000, "large"))


def _level(title: object) -> str:
    if not isinstance(title, str) or not title.strip():
        return "unknown"
    lowered = title.lower()
    for name, rule in SENIORITY_RULES:
        if rule.search(lowered):
            return name
    return "individual_contributor"


# Plain loops over the values rather than pandas' map and where: the same work, without the
# fixed cost per call that dominated a one-lead build.
def title_seniority(titles: Iterable[object]) -> ObjectArray:
    return np.array(per_distinct(_level, titles), dtype=object)


def _bucket(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        match = re.search(r"\d[\d,]*", str(value))
        if not match:
            text = str(value).strip().lower()
            return text if text in {"small", "medium", "large", "enterprise"} else None
        number = float(match.group().replace(",", ""))
    if number != number:
        return None
    return next((name for limit, name in SIZE_BUCKETS if number < limit), "enterprise")


def company_size_estimate(attributes: Columns) -> ObjectArray:
    """From the first of COMPANY_SIZE_ATTRIBUTES that gives a size, else "unknown"."""
    out: list[str | None] = [None] * len(attributes)
    for name in COMPANY_SIZE_ATTRIBUTES:
        if name in attributes:
            for i, bucket in enumerate(per_distinct(_bucket, attributes[name].tolist())):
                if out[i] is None:
                    out[i] = bucket
    return np.array(["unknown" if v is None else v for v in out], dtype=object)


def _present(values: Array) -> FloatArray:
    return np.array([isinstance(v, str) and bool(v.strip()) for v in values.tolist()], dtype=float)


def add_lead_demographics(out: FeatureSet, entities: Entities, rows: Rows) -> None:
    cols, code = entities.columns, rows.code
    for name, api, what in (
        ("has_company", "hasCompany", "company"),
        ("has_title", "hasTitle", "title"),
        ("has_phone", "hasPhone", "phone"),
    ):
        out.add(
            boolean(name, _DEMO, f"The lead has a {what}", f"{what} is not empty", _C, api),
            _present(cols[what])[code],
        )
    add_email_domain_type(out, entities, rows, api=True)
    out.add(
        categorical(
            "title_seniority",
            _DEMO,
            "Seniority from the title: c_level, vp, director, manager, individual_contributor, "
            "unknown",
            "first match on the lower-cased title: VP/vice president -> vp; chief, C?O, founder, "
            "president, owner -> c_level; director, head -> director; manager, lead, supervisor "
            "-> manager; any other title -> individual_contributor; none -> unknown",
            _C,
            "titleSeniority",
        ),
        title_seniority(cols["title"].tolist())[code],
    )
    out.add(
        categorical(
            "company_size_estimate",
            _DEMO,
            "Company size: small (<50), medium (<1000), large (<10000), enterprise, unknown",
            f"from the first of the attributes {', '.join(COMPANY_SIZE_ATTRIBUTES)} with a "
            "number (a range such as '51-200' uses its first number)",
            _C,
            "companySizeEstimate",
        ),
        company_size_estimate(entities.attributes)[code],
    )
