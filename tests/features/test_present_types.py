"""The event types a kind of customer has: found by a loose scan of an index, they equal what a
DISTINCT over every event of the tenant gives, for each kind, for all customers, and for a
kind nobody has."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from propensity.db import Database
from propensity.features.history import present_event_types
from propensity.features.loading import Entities, load_customers, load_leads
from propensity.models import Customer, Event
from tests.features.helpers import Crm, T, days, new_tenant


def _mixed() -> Crm:
    crm = Crm()
    crm.customer("acc1", kind="account", account_type="CUSTOMER", created_at=T - days(90))
    crm.customer("acc2", kind="account", account_type="CUSTOMER", created_at=T - days(90))
    crm.customer("sub1", kind="subscriber", created_at=T - days(90))
    crm.lead("lead1", created_at=T - days(20))
    for ago, owner, type_ in (
        (5, "acc1", "login"),
        (4, "acc2", "ticket_opened"),
        (3, "acc2", "webinar_attended"),
        (2, "sub1", "login"),
        (2, "sub1", "watch"),
        (1, "sub1", "zz_custom"),
        (1, "lead1", "email_open"),
        (1, "lead1", "aa_lead_only"),
    ):
        crm.event(owner, type_, T - days(ago))
    return crm


def _distinct(database: Database, tenant: int, kind: str | None) -> tuple[str, ...]:
    """What the DISTINCT over the events gives (the statement the scan replaced)."""
    stmt = sa.select(Event.type).where(Event.customer_id.is_not(None)).distinct()
    if kind is not None:
        stmt = stmt.join(Customer, Customer.id == Event.customer_id).where(Customer.kind == kind)
    with database.tenant_session(tenant) as session:
        return tuple(sorted(session.scalars(stmt)))


def _present(database: Database, tenant: int, kind: str | None) -> tuple[str, ...]:
    with database.tenant_session(tenant) as session:
        return present_event_types(session, load_customers(session, kind=kind))


def test_each_kind_has_its_own_types_and_the_shared_ones(database: Database) -> None:
    tenant = new_tenant(database, "mixed")
    _mixed().load(database, tenant)
    # Another tenant's types are never seen.
    other = new_tenant(database, "other")
    Crm().customer("x", kind="account", account_type="CUSTOMER").event(
        "x", "other_tenant_type", T
    ).load(database, other)

    assert _present(database, tenant, "account") == ("login", "ticket_opened", "webinar_attended")
    assert _present(database, tenant, "subscriber") == ("login", "watch", "zz_custom")
    assert _present(database, tenant, None) == (
        "login",
        "ticket_opened",
        "watch",
        "webinar_attended",
        "zz_custom",
    )
    for kind in ("account", "subscriber", None):
        assert _present(database, tenant, kind) == _distinct(database, tenant, kind)
    assert _present(database, other, "account") == ("other_tenant_type",)


def test_a_kind_without_customers_or_events_has_no_types(database: Database) -> None:
    tenant = new_tenant(database, "accounts-only")
    crm = Crm().customer("acc1", kind="account", account_type="CUSTOMER")
    crm.customer("acc2", kind="account", account_type="CUSTOMER").event("acc1", "login", T)
    crm.load(database, tenant)
    assert _present(database, tenant, "subscriber") == ()
    empty = new_tenant(database, "empty")
    Crm().customer("acc1", kind="account", account_type="CUSTOMER").load(database, empty)
    assert _present(database, empty, "account") == ()


def test_leads_have_no_types_per_kind(database: Database) -> None:
    tenant = new_tenant(database, "leads")
    _mixed().load(database, tenant)
    with database.tenant_session(tenant) as session:
        leads: Entities = load_leads(session)
        with pytest.raises(ValueError, match="customer notion"):
            present_event_types(session, leads)


def test_the_types_are_walked_through_the_index(database: Database) -> None:
    """SQLite's plan: every step of the scan is a seek of ix_events_customer_type, so the cost
    grows with the number of types, not of events, and a type's events meet their customers
    by primary key."""
    if database.engine.dialect.name != "sqlite":
        pytest.skip("reads SQLite's query plan")
    from propensity.features.history import _TYPES_OF_KIND

    with database.engine.connect() as connection:
        plan = connection.execute(
            sa.text(f"EXPLAIN QUERY PLAN {_TYPES_OF_KIND.text}"), {"tenant": 1, "kind": "account"}
        ).all()
    steps = [row[-1] for row in plan if "events" in row[-1]]
    assert steps and all("ix_events_customer_type" in step for step in steps), steps
    # Each event's customer by its key: through the (tenant, kind) index it was 3-4x slower.
    customers = [row[-1] for row in plan if row[-1].startswith("SEARCH c ")]
    assert customers == ["SEARCH c USING INTEGER PRIMARY KEY (rowid=?)"], customers
