"""A first guess at how a file's columns map onto an import contract, for a person to
review: `MonthlyCharges` and `monthly charges` are the same name, `customerID` is the
customer id, `Churn` is the churn outcome.

Only names are compared, never values: the guess is a starting point the reviewer edits,
and validation (not this module) decides whether the data fits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from propensity.crm.contracts import ImportKind, spec_for

# Common names of contract columns, by kind, after normalising (see `normalise`).
_ALIASES: dict[ImportKind, dict[str, str]] = {
    ImportKind.CUSTOMERS: {
        "id": "customer_id",
        "external_id": "customer_id",
        "customerid": "customer_id",
        "account_id": "customer_id",
        "subscriber_id": "customer_id",
        "user_id": "customer_id",
        "churn": "churned",
        "is_churned": "churned",
        "tenure": "tenure_months",
        "customer_type": "account_type",
        "type": "account_type",
        "renewal": "renewal_date",
        "signup_date": "created_at",
        "customer_name": "name",
        "account_name": "name",
    },
    ImportKind.LEADS: {
        "id": "lead_id",
        "external_id": "lead_id",
        "leadid": "lead_id",
        "conversion": "converted",
        "is_converted": "converted",
        "lead_source": "source",
        "company_name": "company",
        "job_title": "title",
        "value": "deal_value",
        "amount": "deal_value",
    },
    ImportKind.EVENTS: {
        "id": "event_id",
        "event_type": "type",
        "activity_type": "type",
        "timestamp": "occurred_at",
        "time": "occurred_at",
        "date": "occurred_at",
        "event_time": "occurred_at",
        "account_id": "customer_id",
        "amount": "value",
    },
    ImportKind.HEALTH: {
        "account_id": "customer_id",
        "date": "snapshot_date",
        "score": "overall_score",
        "health_score": "overall_score",
        "overall": "overall_score",
        "adoption": "product_adoption",
    },
    ImportKind.DEALS: {
        "id": "deal_id",
        "external_id": "deal_id",
        "price": "sale_price",
        "sold_price": "sale_price",
        "asking_price": "list_price",
        "sale_date": "sold_at",
        "list_date": "listed_at",
    },
}

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def normalise(name: str) -> str:
    """`MonthlyCharges`, `monthly-charges` and ` Monthly Charges ` all give
    `monthly_charges`; `customerID` gives `customer_id`."""
    spaced = _CAMEL.sub("_", name.strip())
    return _NOT_WORD.sub("_", spaced.lower()).strip("_")


def propose_mapping(kind: ImportKind | str, columns: Sequence[str]) -> dict[str, str | None]:
    """Renames (source -> contract column) and drops (source -> None) for `columns`, in the
    form `ImportOptions.mapping` takes. A column named exactly as the contract says is left
    alone, and a contract column is never proposed twice. Columns the contract does not
    know are left alone where the kind keeps them as attributes, and proposed for dropping
    where it keeps nothing else (health snapshots)."""
    spec = spec_for(kind)
    aliases = _ALIASES[spec.kind]
    known = set(spec.columns)
    taken = {name for name in columns if name in known}
    mapping: dict[str, str | None] = {}
    for name in columns:
        if name in known:
            continue
        plain = normalise(name)
        target = plain if plain in known else aliases.get(plain)
        if target is not None and target not in taken:
            mapping[name] = target
            taken.add(target)
        elif spec.extras is None:
            mapping[name] = None
    return mapping
