"""tenant_read returns what Core returns for the same prebuilt statement (db_read.py), binds
the session's tenant, and raises the driver's errors as Core raises them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from propensity.db import Database, TenantScopeError, tenant_execute, tenant_matches
from propensity.db_read import tenant_read
from propensity.models import Customer, Prediction
from propensity.tenancy.service import create_tenant

# Text, a time, a boolean, JSON, a nullable float: each column type's own conversion.
_CUSTOMERS = (
    sa.select(
        Customer.id,
        Customer.external_id,
        Customer.created_at,
        Customer.churned,
        Customer.attributes,
        Customer.arr,
    )
    .where(tenant_matches(Customer.tenant_id))
    .order_by(Customer.id)
)
_BY_IDS = _CUSTOMERS.where(Customer.id.in_(sa.bindparam("ids", expanding=True)))
_FIRST_AFTER = _CUSTOMERS.where(
    Customer.created_at > sa.bindparam("after", type_=Customer.created_at.type)
).limit(1)


def _tenant(database: Database, slug: str) -> int:
    with database.system_session() as session:
        return create_tenant(session, slug=slug).id


def _customers(database: Database, tenant: int, prefix: str) -> list[int]:
    start = datetime(2026, 1, 1, 8, 30, 15, 250000, tzinfo=timezone(timedelta(hours=2)))
    with database.tenant_session(tenant) as session:
        rows = [
            Customer(
                external_id=f"{prefix}{i}",
                created_at=start + timedelta(days=i),
                churned=i % 2 == 0,
                attributes={"plan": "pro", "seats": i, "nested": {"é": [1, None]}} if i else {},
                arr=None if i == 1 else 10.5 * i,
            )
            for i in range(4)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def _core(database: Database, tenant: int, statement: Any, params: dict[str, Any]) -> list[Any]:
    with database.tenant_session(tenant) as session:
        return [tuple(row) for row in tenant_execute(session, statement, params)]


def test_rows_and_columns_are_what_core_returns(database: Database) -> None:
    tenant = _tenant(database, "reads")
    ids = _customers(database, tenant, "c")
    with database.tenant_session(tenant) as session:
        read = tenant_read(session, _CUSTOMERS)
        rows = read.all()
        columns = read.columns()
        first = read.first()
    expected = _core(database, tenant, _CUSTOMERS, {})
    assert rows == expected
    assert [list(c) for c in columns] == [list(c) for c in zip(*expected, strict=True)]
    assert first == expected[0]
    assert isinstance(rows[0][2], datetime) and rows[0][2].tzinfo is not None
    assert rows[0][2] == datetime(2026, 1, 1, 6, 30, 15, 250000, tzinfo=UTC)
    assert rows[0][3] is True and rows[1][3] is False
    assert rows[1][4]["nested"] == {"é": [1, None]}
    assert rows[1][5] is None
    assert [row[0] for row in rows] == ids


@pytest.mark.parametrize("count", [0, 1, 2, 3, 1, 0])
def test_in_lists_of_every_length_and_bound_parameters(database: Database, count: int) -> None:
    """Each length of an IN list has its own SQL: the same statement with one id and then
    three must not reuse the one-id SQL. A bound time goes through its type's conversion."""
    tenant = _tenant(database, f"lists{count}")
    ids = _customers(database, tenant, "l")
    wanted = {"ids": ids[1 : 1 + count]}
    with database.tenant_session(tenant) as session:
        assert tenant_read(session, _BY_IDS, wanted).all() == _core(
            database, tenant, _BY_IDS, wanted
        )
        assert [row[0] for row in tenant_read(session, _BY_IDS, wanted).all()] == wanted["ids"]
        after = {"after": datetime(2026, 1, 2, 12, tzinfo=UTC)}
        found = tenant_read(session, _FIRST_AFTER, after).all()
    assert found == _core(database, tenant, _FIRST_AFTER, after)
    assert [row[0] for row in found] == [ids[2]]


def test_reads_only_the_sessions_tenant(database: Database) -> None:
    tenants = [_tenant(database, f"own{i}") for i in range(2)]
    owned = {t: _customers(database, t, f"t{t}-") for t in tenants}
    for t in tenants + tenants[::-1]:
        other = owned[tenants[0] if t == tenants[1] else tenants[1]]
        with database.tenant_session(t) as session:
            assert [row[0] for row in tenant_read(session, _CUSTOMERS).all()] == owned[t]
            assert tenant_read(session, _BY_IDS, {"ids": other}).all() == []
    with database.tenant_session(tenants[0]) as session, pytest.raises(TenantScopeError):
        tenant_read(session, sa.select(Customer.external_id))
    with database.system_session() as session, pytest.raises(TenantScopeError):
        tenant_read(session, _CUSTOMERS)


def test_pending_changes_are_flushed_and_seen(database: Database) -> None:
    tenant = _tenant(database, "pending")
    with database.tenant_session(tenant) as session:
        session.add(Customer(external_id="new", attributes={}))
        assert [row[1] for row in tenant_read(session, _CUSTOMERS).all()] == ["new"]
        assert tenant_read(session, _BY_IDS, {"ids": [-1]}).scalar() is None


def test_a_driver_error_is_raised_as_core_raises_it(database: Database) -> None:
    tenant = _tenant(database, "errors")
    missing = sa.table("no_such_table", sa.column("tenant_id", sa.Integer), sa.column("x"))
    statement = sa.select(missing.c.x).where(tenant_matches(missing.c.tenant_id))
    with database.tenant_session(tenant) as session, pytest.raises(sa.exc.DBAPIError) as core:
        tenant_execute(session, statement)
    with database.tenant_session(tenant) as session, pytest.raises(sa.exc.DBAPIError) as ours:
        tenant_read(session, statement)
    assert type(ours.value) is type(core.value)
    assert "no_such_table" in str(ours.value)
    # The pool's connections still serve.
    for _ in range(3):
        with database.tenant_session(tenant) as session:
            assert tenant_read(session, _CUSTOMERS).all() == []
            assert session.scalar(sa.select(sa.func.count()).select_from(Prediction)) == 0


def test_a_dropped_connection_is_invalidated_as_core_would(database: Database) -> None:
    """PostgreSQL: the server ends the session's connection mid-transaction. The read raises
    SQLAlchemy's OperationalError marked as a disconnect, and the pool does not hand out the
    dead connection again."""
    engine = database.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("a server that can drop a connection")
    tenant = _tenant(database, "dropped")
    _customers(database, tenant, "d")
    with database.tenant_session(tenant) as session:
        pid = session.scalar(sa.text("SELECT pg_backend_pid()"))
        with engine.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(sa.exc.OperationalError) as raised:
            tenant_read(session, _CUSTOMERS)
        assert raised.value.connection_invalidated
        session.rollback()
    for _ in range(3):
        with database.tenant_session(tenant) as session:
            assert len(tenant_read(session, _CUSTOMERS).all()) == 4
