"""insert_many stores exactly what SQLAlchemy's own executemany stores (db_insert.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from propensity.db import Database
from propensity.db_insert import insert_many
from propensity.models import Lead, Prediction
from propensity.tenancy.service import create_tenant

OWN = ("lead_id", "probability", "outputs", "contributions", "explanation", "served_by")


def _stored(database: Database, tenant: int, job: str) -> list[dict[str, Any]]:
    with database.tenant_session(tenant) as session:
        rows = session.scalars(
            sa.select(Prediction).where(Prediction.job_id == job).order_by(Prediction.id)
        ).all()
        return [
            {c.key: getattr(row, c.key) for c in Prediction.__table__.columns if c.key != "id"}
            for row in rows
        ]


def test_rows_read_back_as_the_core_insert_stores_them(database: Database) -> None:
    with database.system_session() as session:
        tenant = create_tenant(session, slug="inserts").id
    with database.tenant_session(tenant) as session:
        session.add_all(Lead(external_id=f"L{i}") for i in range(3))
        session.flush()
        leads = [lead.id for lead in session.scalars(sa.select(Lead).order_by(Lead.id))]
    # A time with an offset (stored as UTC), JSON with nesting, None where allowed.
    at = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    shared = {
        "tenant_id": tenant,
        "prediction_type": "CONVERSION",
        "predicted_at": at,
        "valid_until": at + timedelta(days=1),
        "status": "ACTIVE",
        "latency_ms": None,
    }
    own = [
        (leads[0], 0.25, {"label": "warm", "bands": [0.1, 0.4]}, {"top": []}, None, None),
        (leads[1], None, {}, {"values": {"x": 1.5, "y": None}}, "A reason.", "challenger"),
        (leads[2], 1.0, {"é": "ünïcode"}, {}, "", "rules"),
    ]
    table = Prediction.__table__
    assert isinstance(table, sa.Table)
    with database.tenant_session(tenant) as session:
        session.execute(
            sa.insert(table),
            [{**shared, "job_id": "core", **dict(zip(OWN, row, strict=True))} for row in own],
        )
        written = insert_many(
            session.connection(),
            table,
            shared={**shared, "job_id": "many"},
            columns=OWN,
            rows=own,
        )
    assert written == 3
    core, many = _stored(database, tenant, "core"), _stored(database, tenant, "many")
    assert len(core) == len(many) == 3
    for expected, got in zip(core, many, strict=True):
        assert {**got, "job_id": "core"} == expected
    assert many[0]["predicted_at"] == at.astimezone(UTC)
    assert many[1]["contributions"] == {"values": {"x": 1.5, "y": None}}


def test_nothing_is_written_for_no_rows(database: Database) -> None:
    with database.system_session() as session:
        tenant = create_tenant(session, slug="none").id
    table = Prediction.__table__
    assert isinstance(table, sa.Table)
    with database.tenant_session(tenant) as session:
        assert insert_many(session.connection(), table, shared={}, columns=OWN, rows=[]) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(Prediction)) == 0


def test_a_column_with_a_python_default_must_be_given(database: Database) -> None:
    with database.system_session() as session:
        tenant = create_tenant(session, slug="defaults").id
    table = Prediction.__table__
    assert isinstance(table, sa.Table)
    with database.tenant_session(tenant) as session:
        lead = Lead(external_id="L")
        session.add(lead)
        session.flush()
        with pytest.raises(ValueError, match="predicted_at"):
            insert_many(session.connection(), table, shared={}, columns=OWN, rows=[(lead.id,)])
