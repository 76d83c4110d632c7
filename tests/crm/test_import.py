"""Imports into a real database: every kind in every format, upserts, atomicity, tenants."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from propensity.crm.errors import ImportRejected
from propensity.crm.service import ImportOptions, ImportResult, import_file, import_frame
from propensity.db import Database, TenantScopeError
from propensity.models import Customer, Event, HealthSnapshot, Lead, LeadScoringConfig, PropertySale
from tests.crm.helpers import count, new_tenant, snapshot, write_rows

FORMATS = ["csv", "jsonl", "parquet"]

CUSTOMERS = [
    {
        "customer_id": "acme",
        "kind": "account",
        "name": "Acme Corp",
        "account_type": "CUSTOMER",
        "industry": "Retail",
        "employee_count": 250,
        "arr": 120000.0,
        "health_score": 72.5,
        "renewal_date": "2025-06-30",
        "created_at": "2022-01-15T09:00:00Z",
    },
    {
        "customer_id": "globex",
        "kind": "account",
        "name": "Globex",
        "account_type": "PROSPECT",
        "industry": "Energy",
        "employee_count": 40,
        "arr": 0.0,
        "health_score": 55.0,
        "renewal_date": "2025-01-31",
        "created_at": "2023-03-01T00:00:00Z",
    },
]
LEADS = [
    {
        "lead_id": "L1",
        "config": "real-estate",
        "email": "a@example.com",
        "source": "web",
        "created_at": "2024-01-02T10:00:00Z",
        "budget": 450000.0,
        "property_type": "condo",
        "location": "Austin",
        "score_hint": 3,
    },
    {
        "lead_id": "L2",
        "config": "saas",
        "email": "b@example.com",
        "source": "referral",
        "created_at": "2024-01-05T10:00:00Z",
        "budget": 1000.0,
        "property_type": "",
        "location": "",
        "score_hint": 1,
    },
]
DEALS = [
    {
        "deal_id": "D1",
        "property_type": "condo",
        "location": "Austin",
        "list_price": 500000.0,
        "sale_price": 480000.0,
        "listed_at": "2024-01-01",
        "sold_at": "2024-03-01",
        "bedrooms": 2,
    }
]
HEALTH = [
    {"customer_id": "acme", "snapshot_date": "2024-05-01", "overall_score": 70.0, "engagement": 60},
    {"customer_id": "acme", "snapshot_date": "2024-05-08", "overall_score": 68.0, "engagement": 58},
]
EVENTS = [
    {
        "event_id": "E1",
        "customer_id": "acme",
        "type": "login",
        "occurred_at": "2024-05-01T08:00:00Z",
        "value": None,
        "ticket_id": None,
    },
    {
        "event_id": "E2",
        "customer_id": "acme",
        "type": "ticket_opened",
        "occurred_at": "2024-05-02T09:30:00+02:00",
        "value": 1.0,
        "ticket_id": "T-9",
    },
]


def run(database: Database, tenant_id: int, kind: str, path: Path, **options: Any) -> ImportResult:
    with database.tenant_session(tenant_id) as session:
        return import_file(session, kind=kind, path=path, options=ImportOptions(**options))


@pytest.fixture
def tenant(database: Database) -> int:
    return new_tenant(database, "acme-co")


@pytest.mark.parametrize("fmt", FORMATS)
def test_customers_in_each_format(
    database: Database, tenant: int, tmp_path: Path, fmt: str
) -> None:
    result = run(database, tenant, "customers", write_rows(tmp_path / f"c.{fmt}", CUSTOMERS))
    assert (result.total, result.inserted, result.updated) == (2, 2, 0)
    with database.tenant_session(tenant) as session:
        acme = session.scalars(sa.select(Customer).where(Customer.external_id == "acme")).one()
        assert acme.kind == "account" and acme.account_type == "CUSTOMER"
        assert acme.arr == 120000.0 and acme.health_score == 72.5
        assert acme.renewal_date == date(2025, 6, 30)
        assert acme.created_at == datetime(2022, 1, 15, 9, tzinfo=UTC)
        assert acme.attributes == {"industry": "Retail", "employee_count": 250}
        assert type(acme.attributes["employee_count"]) is int


@pytest.mark.parametrize("fmt", FORMATS)
def test_leads_in_each_format_create_their_configs(
    database: Database, tenant: int, tmp_path: Path, fmt: str
) -> None:
    result = run(database, tenant, "leads", write_rows(tmp_path / f"l.{fmt}", LEADS))
    assert result.inserted == 2
    with database.tenant_session(tenant) as session:
        configs = dict(
            session.execute(sa.select(LeadScoringConfig.name, LeadScoringConfig.id)).all()
        )
        assert set(configs) == {"real-estate", "saas"}
        lead = session.scalars(sa.select(Lead).where(Lead.external_id == "L1")).one()
        assert lead.config_id == configs["real-estate"]
        assert lead.budget == 450000.0 and lead.location == "Austin"
        assert lead.attributes == {"score_hint": 3}
        other = session.scalars(sa.select(Lead).where(Lead.external_id == "L2")).one()
        assert other.location is None
    # A second import reuses the configs instead of creating more.
    run(database, tenant, "leads", write_rows(tmp_path / f"l2.{fmt}", LEADS))
    assert count(database, tenant, LeadScoringConfig) == 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_events_health_and_deals_in_each_format(
    database: Database, tenant: int, tmp_path: Path, fmt: str
) -> None:
    run(database, tenant, "customers", write_rows(tmp_path / f"c.{fmt}", CUSTOMERS))
    assert run(database, tenant, "events", write_rows(tmp_path / f"e.{fmt}", EVENTS)).inserted == 2
    assert run(database, tenant, "health", write_rows(tmp_path / f"h.{fmt}", HEALTH)).inserted == 2
    assert run(database, tenant, "deals", write_rows(tmp_path / f"d.{fmt}", DEALS)).inserted == 1
    with database.tenant_session(tenant) as session:
        acme_id = session.scalars(
            sa.select(Customer.id).where(Customer.external_id == "acme")
        ).one()
        events = session.scalars(sa.select(Event).order_by(Event.occurred_at)).all()
        assert [e.event_key for e in events] == ["E1", "E2"]
        assert all(e.customer_id == acme_id and e.lead_id is None for e in events)
        assert events[1].occurred_at == datetime(2024, 5, 2, 7, 30, tzinfo=UTC)
        assert events[0].properties == {} and events[1].properties == {"ticket_id": "T-9"}
        assert events[0].value is None and events[1].value == 1.0
        health = session.scalars(sa.select(HealthSnapshot).order_by(HealthSnapshot.snapshot_date))
        assert [(h.snapshot_date, h.overall_score, h.engagement) for h in health] == [
            (date(2024, 5, 1), 70.0, 60.0),
            (date(2024, 5, 8), 68.0, 58.0),
        ]
        deal = session.scalars(sa.select(PropertySale)).one()
        assert (deal.sale_price, deal.sold_at) == (480000.0, datetime(2024, 3, 1, tzinfo=UTC))
        assert deal.attributes == {"bedrooms": 2}


def test_events_of_leads(database: Database, tenant: int) -> None:
    with database.tenant_session(tenant) as session:
        import_frame(session, kind="leads", frame=pd.DataFrame(LEADS))
        frame = pd.DataFrame(
            {
                "lead_id": ["L1", "L2"],
                "type": ["email_open", "call"],
                "occurred_at": ["2024-02-01"] * 2,
            }
        )
        assert import_frame(session, kind="events", frame=frame).inserted == 2
        lead_ids = session.scalars(sa.select(Event.lead_id)).all()
        assert None not in lead_ids and len(set(lead_ids)) == 2


def test_reimport_is_idempotent_and_applies_new_values(
    database: Database, tenant: int, tmp_path: Path
) -> None:
    run(database, tenant, "customers", write_rows(tmp_path / "c.csv", CUSTOMERS))
    run(database, tenant, "events", write_rows(tmp_path / "e.csv", EVENTS))
    before = snapshot(database)
    again = run(database, tenant, "events", write_rows(tmp_path / "e.csv", EVENTS))
    assert (again.inserted, again.updated) == (0, 2)
    assert snapshot(database)["events"] == before["events"]

    changed = [dict(row) for row in CUSTOMERS]
    changed[0]["arr"] = 130000.0
    changed[0]["industry"] = "Wholesale"
    changed.append({**CUSTOMERS[1], "customer_id": "initech"})
    result = run(database, tenant, "customers", write_rows(tmp_path / "c2.csv", changed))
    assert (result.total, result.inserted, result.updated) == (3, 1, 2)
    assert count(database, tenant, Customer) == 3
    with database.tenant_session(tenant) as session:
        acme = session.scalars(sa.select(Customer).where(Customer.external_id == "acme")).one()
        assert acme.arr == 130000.0
        assert acme.attributes["industry"] == "Wholesale"
        assert acme.updated_at >= acme.imported_at


def test_events_without_ids_are_stored_once_per_content(database: Database, tenant: int) -> None:
    with database.tenant_session(tenant) as session:
        import_frame(session, kind="customers", frame=pd.DataFrame(CUSTOMERS))
    frame = pd.DataFrame(
        {
            "customer_id": ["acme", "acme", "acme"],
            "type": ["login", "login", "login"],
            "occurred_at": ["2024-01-01T10:00:00Z", "2024-01-01T11:00:00Z", "2024-01-01T10:00Z"],
        }
    )
    for attempt in range(2):
        with database.tenant_session(tenant) as session:
            result = import_frame(session, kind="events", frame=frame)
        assert result.duplicates == 1
        assert (result.inserted, result.updated) == ((2, 0) if attempt == 0 else (0, 2))
    assert count(database, tenant, Event) == 2


def test_a_file_without_kind_keeps_existing_kinds(database: Database, tenant: int) -> None:
    with database.tenant_session(tenant) as session:
        import_frame(
            session,
            kind="customers",
            frame=pd.DataFrame({"customer_id": ["a"]}),
            options=ImportOptions(customer_kind="account"),
        )
        import_frame(session, kind="customers", frame=pd.DataFrame({"customer_id": ["a", "b"]}))
        kinds = dict(session.execute(sa.select(Customer.external_id, Customer.kind)).all())
    assert kinds == {"a": "account", "b": "subscriber"}


def test_columns_absent_from_a_later_file_keep_their_values(
    database: Database, tenant: int
) -> None:
    with database.tenant_session(tenant) as session:
        import_frame(session, kind="customers", frame=pd.DataFrame(CUSTOMERS))
        import_frame(
            session,
            kind="customers",
            frame=pd.DataFrame({"customer_id": ["acme"], "plan": ["gold"]}),
        )
        acme = session.scalars(sa.select(Customer).where(Customer.external_id == "acme")).one()
    assert (acme.plan, acme.arr, acme.attributes["industry"]) == ("gold", 120000.0, "Retail")


def test_one_bad_row_leaves_the_database_exactly_as_it_was(
    database: Database, tenant: int, tmp_path: Path
) -> None:
    run(database, tenant, "customers", write_rows(tmp_path / "c.csv", CUSTOMERS))
    before = snapshot(database)
    rows = [dict(row) for row in CUSTOMERS] + [
        {**CUSTOMERS[0], "customer_id": f"new-{i}", "arr": 5.0} for i in range(20)
    ]
    rows[0]["arr"] = 1.0  # a change that must not land
    rows[7]["health_score"] = "high"
    with pytest.raises(ImportRejected) as caught:
        run(database, tenant, "customers", write_rows(tmp_path / "bad.csv", rows))
    assert [(e.row, e.column, e.problem) for e in caught.value.errors] == [
        (8, "health_score", "not a number: 'high'")
    ]
    assert snapshot(database) == before


def test_a_bad_event_reference_leaves_the_database_as_it_was(
    database: Database, tenant: int
) -> None:
    with database.tenant_session(tenant) as session:
        import_frame(session, kind="customers", frame=pd.DataFrame(CUSTOMERS))
    before = snapshot(database)
    frame = pd.DataFrame([*EVENTS, {**EVENTS[0], "event_id": "E3", "customer_id": "nobody"}])
    with pytest.raises(ImportRejected) as caught, database.tenant_session(tenant) as session:
        import_frame(session, kind="events", frame=frame)
    assert [(e.row, e.column) for e in caught.value.errors] == [(3, "customer_id")]
    assert "no customer with customer_id 'nobody' in this tenant" in caught.value.errors[0].problem
    assert snapshot(database) == before


def test_customers_and_their_events_in_one_transaction(database: Database, tenant: int) -> None:
    with database.tenant_session(tenant) as session:
        import_frame(session, kind="customers", frame=pd.DataFrame(CUSTOMERS))
        import_frame(session, kind="events", frame=pd.DataFrame(EVENTS))
        import_frame(session, kind="health", frame=pd.DataFrame(HEALTH))
    assert count(database, tenant, Event) == 2
    assert count(database, tenant, HealthSnapshot) == 2


def test_events_cannot_reference_another_tenants_customers(database: Database, tenant: int) -> None:
    other = new_tenant(database, "other-co")
    with database.tenant_session(tenant) as session:
        import_frame(session, kind="customers", frame=pd.DataFrame(CUSTOMERS))
    before = snapshot(database)
    for kind, rows in (("events", EVENTS), ("health", HEALTH)):
        with pytest.raises(ImportRejected) as caught, database.tenant_session(other) as session:
            import_frame(session, kind=kind, frame=pd.DataFrame(rows))
        assert {e.column for e in caught.value.errors} == {"customer_id"}
        assert caught.value.total_errors == len(rows)
    assert snapshot(database) == before


def test_the_same_ids_in_two_tenants_are_separate_rows(database: Database, tenant: int) -> None:
    other = new_tenant(database, "other-co")
    for tenant_id, arr in ((tenant, 1.0), (other, 2.0)):
        frame = pd.DataFrame({"customer_id": ["acme"], "arr": [arr]})
        with database.tenant_session(tenant_id) as session:
            assert import_frame(session, kind="customers", frame=frame).inserted == 1
    for tenant_id, arr in ((tenant, 1.0), (other, 2.0)):
        with database.tenant_session(tenant_id) as session:
            assert session.scalars(sa.select(Customer.arr)).all() == [arr]


def test_imports_need_a_tenant_session(database: Database) -> None:
    with pytest.raises(TenantScopeError), database.system_session() as session:
        import_frame(session, kind="customers", frame=pd.DataFrame({"customer_id": ["a"]}))


def test_progress_reports_every_row(database: Database, tenant: int) -> None:
    seen: list[int] = []
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(25)]})
    with database.tenant_session(tenant) as session:
        import_frame(session, kind="customers", frame=frame, chunk_size=10, progress=seen.append)
    assert seen == [10, 10, 5]


def test_counts_are_right_when_far_more_rows_are_stored(database: Database, tenant: int) -> None:
    # Few input keys against many stored rows: existing keys are looked up, not all read.
    stored = pd.DataFrame({"customer_id": [f"c{i}" for i in range(50)]})
    with database.tenant_session(tenant) as session:
        import_frame(session, kind="customers", frame=stored)
        result = import_frame(
            session, kind="customers", frame=pd.DataFrame({"customer_id": ["c7", "new"]})
        )
    assert (result.inserted, result.updated) == (1, 1)


def test_the_same_event_ids_in_two_tenants_are_separate_rows(
    database: Database, tenant: int
) -> None:
    other = new_tenant(database, "other-co")
    for tenant_id in (tenant, other):
        with database.tenant_session(tenant_id) as session:
            import_frame(session, kind="customers", frame=pd.DataFrame(CUSTOMERS))
            result = import_frame(session, kind="events", frame=pd.DataFrame(EVENTS))
        assert (result.inserted, result.updated) == (2, 0)
    assert count(database, tenant, Event) == count(database, other, Event) == 2
