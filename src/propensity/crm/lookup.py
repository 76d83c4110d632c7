"""Finding one entity of the caller's tenant by its id. The tenant session scopes every
lookup, so another tenant's entity is not found either. Each returns None when there is no
such entity: the surfaces word their own 404s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import tenant_matches, tenant_scalars
from propensity.db_read import tenant_read
from propensity.models import Customer, Lead
from propensity.vocabulary import Population

# Larger ids cannot be stored (BIGINT); they name no entity rather than overflow a driver.
MAX_ID = 2**63 - 1
# An IN list per query stays well under SQLite's bound-parameter limit.
ID_CHUNK = 5000


def parse_id(raw: object) -> int | None:
    """A positive integer id from a path or query value; None when it is not one (ASCII
    digits only: '²'.isdigit() is true, and int() would then fail)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        value = int(raw.strip())
    else:
        return None
    return value if 0 < value <= MAX_ID else None


# By primary key, built once (a request's one lookup; session.get went through the ORM hook).
_CUSTOMER = sa.select(Customer).where(
    tenant_matches(Customer.tenant_id),
    Customer.id == sa.bindparam("id", type_=Customer.id.type),
)
_LEAD = sa.select(Lead).where(
    tenant_matches(Lead.tenant_id),
    Lead.id == sa.bindparam("id", type_=Lead.id.type),
)


def find_customer(
    session: Session, *, customer_id: int, kind: str | None = None
) -> Customer | None:
    """The customer with this id (of this kind: account or subscriber, when given)."""
    customer = tenant_scalars(session, _CUSTOMER, {"id": customer_id}).first()
    if customer is None or (kind is not None and customer.kind != kind):
        return None
    return customer


def find_account(session: Session, *, account_id: int) -> Customer | None:
    return find_customer(session, customer_id=account_id, kind=Population.ACCOUNT.value)


def find_lead(session: Session, *, lead_id: int) -> Lead | None:
    return tenant_scalars(session, _LEAD, {"id": lead_id}).first()


@dataclass(frozen=True)
class LeadFacts:
    """What an answer about a lead shows of the lead itself, read without loading it."""

    id: int
    budget: float | None
    timeline: str | None
    property_type: str | None
    location: str | None


# On the driver's cursor (db_read.tenant_read): the lead score's one read of the lead, at about a
# third of what loading the ORM object cost.
_LEAD_FACTS = sa.select(
    Lead.id, Lead.budget, Lead.timeline, Lead.property_type, Lead.location
).where(
    tenant_matches(Lead.tenant_id),
    Lead.id == sa.bindparam("id", type_=Lead.id.type),
)


def find_lead_facts(session: Session, *, lead_id: int) -> LeadFacts | None:
    row = tenant_read(session, _LEAD_FACTS, {"id": lead_id}).first()
    return None if row is None else LeadFacts(*row)


def find_leads(session: Session, *, lead_ids: Sequence[int]) -> dict[int, Lead]:
    """Those of `lead_ids` that are leads of the tenant, by id (a many-lead request checks
    every id it names, and reads their budgets and deal values)."""
    found: dict[int, Lead] = {}
    ids = list(dict.fromkeys(int(i) for i in lead_ids))
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        found.update(
            (lead.id, lead) for lead in session.scalars(sa.select(Lead).where(Lead.id.in_(chunk)))
        )
    return found


def find_subscriber(session: Session, *, key: str) -> Customer | None:
    """By external id first; a number that is no external id is read as the internal id."""
    subscribers = Customer.kind == Population.SUBSCRIBER.value
    by_external = session.scalars(
        sa.select(Customer).where(subscribers, Customer.external_id == key)
    ).first()
    if by_external is not None:
        return by_external
    internal = parse_id(key)
    if internal is None:
        return None
    return find_customer(session, customer_id=internal, kind=Population.SUBSCRIBER.value)


def populations_present(session: Session) -> set[str]:
    """Which populations (account, subscriber, lead) the tenant has any entity of: the
    dashboard starts a user on the page for the data there is."""
    present = {
        str(kind)
        for kind in session.scalars(
            sa.select(Customer.kind).distinct().where(Customer.kind.is_not(None))
        )
    }
    if session.scalar(sa.select(Lead.id).limit(1)) is not None:
        present.add(Population.LEAD.value)
    return present
