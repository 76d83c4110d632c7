"""Every tenant-owned table is scoped in one place: tenant A can read none of B's rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import Base, Database, TenantOwned, TenantScopeError, tenant_owned_tables
from propensity.settings import Settings
from tests.factories import make_tenant_user


def _value_for(column: sa.Column[Any], index: int) -> Any:
    python_type: type[Any] | None
    column_type = column.type.impl if isinstance(column.type, sa.TypeDecorator) else column.type
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        python_type = None
    if python_type is bool:
        return True
    if python_type is int:
        return index
    if python_type is float:
        return 1.5
    if python_type is datetime:
        return datetime(2025, 1, 1, tzinfo=UTC)
    if python_type is date:
        return date(2025, 1, 1)
    if python_type is dict:
        return {}
    if python_type is list:
        return []
    if python_type is bytes:
        return b"\x00artifact"
    return f"b-{column.name}-{index}"


def _fill_every_table(session: Session, tenant_id: int) -> dict[type[Any], Any]:
    """One row per tenant-owned model, with foreign keys pointing at the same tenant's rows."""
    made: dict[str, Any] = {}
    by_class: dict[type[Any], Any] = {}
    mappers = {m.local_table.name: m for m in Base.registry.mappers}
    for table in Base.metadata.sorted_tables:
        mapper = mappers.get(table.name)
        if mapper is None or not issubclass(mapper.class_, TenantOwned):
            continue
        values: dict[str, Any] = {"tenant_id": tenant_id}
        for column in table.columns:
            if column.primary_key and column.autoincrement is not False and column.name == "id":
                if isinstance(column.type, sa.String):
                    values["id"] = f"job-b-{tenant_id}"
                continue
            if column.name == "tenant_id":
                continue
            fks = list(column.foreign_keys)
            if fks:
                target = fks[0].column.table.name
                if target in made:
                    values[column.name] = made[target].id
                continue
            if column.nullable or column.default is not None:
                continue
            values[column.name] = _value_for(column, len(made) + 1)
        if "customer_id" in values and "lead_id" in values:
            values["lead_id"] = None  # events and predictions belong to exactly one subject
        obj = mapper.class_(**values)
        session.add(obj)
        session.flush()
        made[table.name] = obj
        by_class[mapper.class_] = obj
    return by_class


def test_every_table_with_a_tenant_column_is_scoped() -> None:
    scoped = {t.name for t in tenant_owned_tables()}
    with_column = {t.name for t in Base.metadata.sorted_tables if "tenant_id" in t.columns}
    assert with_column == scoped
    assert {"customers", "leads", "events", "health_snapshots", "jobs", "users"} <= scoped


def test_tenant_a_reads_none_of_tenant_bs_rows(database: Database, settings: Settings) -> None:
    a = make_tenant_user(database, settings, slug="tenant-a")
    b = make_tenant_user(database, settings, slug="tenant-b")
    with database.tenant_session(b.tenant_id) as session:
        rows_of_b = _fill_every_table(session, b.tenant_id)
    assert {cls.__tablename__ for cls in rows_of_b} == {t.name for t in tenant_owned_tables()}

    for model, row in rows_of_b.items():
        with database.tenant_session(a.tenant_id) as session:
            assert session.scalars(sa.select(model)).all() == [] or all(
                r.tenant_id == a.tenant_id for r in session.scalars(sa.select(model))
            ), model.__tablename__
            # By primary key, whatever its columns (most tables: `id`).
            assert session.get(model, sa.inspect(row).identity) is None, model.__tablename__
            count = session.scalar(sa.select(sa.func.count()).select_from(model))
            own = 1 if model.__tablename__ == "users" else 0
            assert count == own, model.__tablename__
        with database.tenant_session(b.tenant_id) as session:
            assert session.get(model, sa.inspect(row).identity) is not None, model.__tablename__


def test_tenant_a_cannot_update_or_delete_tenant_bs_rows(
    database: Database, settings: Settings
) -> None:
    from propensity.models import Customer

    a = make_tenant_user(database, settings, slug="tenant-a")
    b = make_tenant_user(database, settings, slug="tenant-b")
    with database.tenant_session(b.tenant_id) as session:
        session.add(Customer(external_id="c1", kind="subscriber", attributes={}))
    with database.tenant_session(a.tenant_id) as session:
        updated = session.execute(sa.update(Customer).values(name="hijacked"))
        deleted = session.execute(sa.delete(Customer))
        assert updated.rowcount == 0  # type: ignore[attr-defined]
        assert deleted.rowcount == 0  # type: ignore[attr-defined]
    with database.tenant_session(b.tenant_id) as session:
        customer = session.scalars(sa.select(Customer)).one()
        assert customer.name is None


def test_writing_another_tenants_row_is_refused(database: Database, settings: Settings) -> None:
    from propensity.models import Customer

    a = make_tenant_user(database, settings, slug="tenant-a")
    b = make_tenant_user(database, settings, slug="tenant-b")
    with pytest.raises(TenantScopeError), database.tenant_session(a.tenant_id) as session:
        session.add(Customer(tenant_id=b.tenant_id, external_id="x", attributes={}))
        session.flush()


def test_a_session_without_tenant_cannot_query_tenant_data(database: Database) -> None:
    from propensity.models import Customer

    with database.session() as session, pytest.raises(TenantScopeError):
        session.scalars(sa.select(Customer)).all()


def test_scoping_is_not_cached_across_tenants(database: Database, settings: Settings) -> None:
    """The same compiled statement must bind each session's own tenant, in any order."""
    from propensity.models import Customer

    tenants = [make_tenant_user(database, settings, slug=f"t{i}") for i in range(3)]
    for t in tenants:
        with database.tenant_session(t.tenant_id) as session:
            session.add(Customer(external_id=f"only-{t.tenant_slug}", attributes={}))
    statement = sa.select(Customer.external_id)
    for t in tenants + tenants[::-1]:
        with database.tenant_session(t.tenant_id) as session:
            assert session.scalars(statement).all() == [f"only-{t.tenant_slug}"]


def test_prebuilt_statements_bind_the_sessions_tenant(
    database: Database, settings: Settings
) -> None:
    """tenant_execute (the hot path's Core statements) reads each session's own rows, and
    refuses a statement that does not filter by tenant and a session without a tenant."""
    from propensity.db import tenant_execute
    from propensity.models import Customer

    tenants = [make_tenant_user(database, settings, slug=f"p{i}") for i in range(2)]
    for t in tenants:
        with database.tenant_session(t.tenant_id) as session:
            session.add(Customer(external_id=f"own-{t.tenant_slug}", attributes={}))
    scoped = sa.select(Customer.external_id).where(
        Customer.tenant_id == sa.bindparam("tenant", type_=sa.Integer)
    )
    for t in tenants + tenants[::-1]:
        with database.tenant_session(t.tenant_id) as session:
            assert tenant_execute(session, scoped).scalars().all() == [f"own-{t.tenant_slug}"]
    with database.tenant_session(tenants[0].tenant_id) as session, pytest.raises(TenantScopeError):
        tenant_execute(session, sa.select(Customer.external_id))
    with database.system_session() as session, pytest.raises(TenantScopeError):
        tenant_execute(session, scoped)


def test_prebuilt_object_loads_bind_the_sessions_tenant(
    database: Database, settings: Settings
) -> None:
    """tenant_scalars (ORM objects through a prebuilt statement, the hook skipped) finds only
    the session's tenant's rows: an account id of another tenant is not found."""
    from propensity.crm.lookup import find_account
    from propensity.models import Customer

    a, b = (make_tenant_user(database, settings, slug=f"o{i}") for i in range(2))
    with database.tenant_session(b.tenant_id) as session:
        theirs = Customer(external_id="theirs", kind="account", attributes={})
        session.add(theirs)
        session.flush()
        their_id = theirs.id
    with database.tenant_session(a.tenant_id) as session:
        assert find_account(session, account_id=their_id) is None
    with database.tenant_session(b.tenant_id) as session:
        found = find_account(session, account_id=their_id)
        assert found is not None and found.external_id == "theirs"
