"""The demo set-up: a tenant, an admin without a default password, simulated data."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from rich.console import Console

from propensity.db import Database
from propensity.demo import default_config, run_demo
from propensity.models import (
    Customer,
    Event,
    HealthSnapshot,
    Lead,
    ModelVersion,
    Prediction,
    PropertySale,
    Tenant,
    User,
)
from propensity.monitoring.store import latest_drift
from propensity.settings import Settings
from propensity.tenancy.passwords import verify_password

END = dt.date(2026, 6, 1)


def _small() -> object:
    return default_config(seed=7, scale=0.02, end=END)


def _counts(database: Database, tenant_id: int) -> dict[str, int]:
    with database.tenant_session(tenant_id) as session:
        return {
            model.__tablename__: session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
            for model in (Customer, Lead, Event, HealthSnapshot, PropertySale)
        }


def test_demo_builds_a_tenant_with_data_and_a_generated_password(
    database: Database, settings: Settings
) -> None:
    result = run_demo(
        settings=settings, database=database, config=_small(), console=Console(quiet=True)
    )
    assert result.created
    assert result.admin_email == "admin@demo.local"
    assert result.admin_password is not None and len(result.admin_password) >= 16
    counts = _counts(database, result.tenant_id)
    assert counts["customers"] == 40 + 400
    assert counts["leads"] == 200
    assert counts["property_sales"] == 60
    assert counts["events"] > 1000
    assert counts["health_snapshots"] > 100
    # At 2% of the default size some models lack data: they are reported, not fatal.
    assert set(result.models) == {
        "churn (account)",
        "churn (subscriber)",
        "health_trend (account)",
        "conversion",
        "time_to_close",
        "customer success",
        "monitoring",
    }
    assert re.match(
        r"^[\d,]+ past predictions validated, \d+ CTAs opened$",
        result.models.pop("customer success"),
    )
    # Every active model has a stored drift check, as after a night, for the dashboard.
    with database.tenant_session(result.tenant_id) as session:
        active = session.scalars(
            sa.select(ModelVersion.id).where(ModelVersion.status == "active")
        ).all()
        assert active and all(
            latest_drift(session, tenant_id=result.tenant_id, model_id=i) for i in active
        )
    assert result.models.pop("monitoring") == f"{len(active)} drift checks stored"
    # Every version's predictions were made on or after the end of its training data: the
    # demo's past is served by models that could not have seen the outcomes judging them.
    with database.tenant_session(result.tenant_id) as session:
        versions = session.scalars(sa.select(ModelVersion)).all()
        checked = 0
        for version in versions:
            data_end = (version.training_config or {}).get("dataEnd")
            first = session.scalar(
                sa.select(sa.func.min(Prediction.predicted_at)).where(
                    Prediction.model_version_id == version.id
                )
            )
            if data_end is None or first is None:
                continue
            assert first >= dt.datetime.fromisoformat(data_end), (version.id, first, data_end)
            checked += 1
        assert checked
    for summary in result.models.values():
        assert re.match(
            r"^(\w+ v\d+ on (data to [\d-]+|all the data), [\d,]+ scored"
            r"( \(previous \w+ v1 on data to [\d-]+\))?"
            r"(, .*snapshots.*|, no portfolio history .*)?"
            r"|skipped: .*\d.*)$",
            summary,
        ), summary
    with database.system_session() as session:
        admin = session.scalars(sa.select(User)).one()
        assert admin.role == "admin"
        assert verify_password(result.admin_password, admin.password_hash)

    again = run_demo(
        settings=settings,
        database=database,
        config=_small(),
        console=Console(quiet=True),
        train=False,
    )
    assert not again.created
    assert again.admin_password is None
    assert _counts(database, again.tenant_id) == counts


def test_demo_passwords_differ_between_fresh_runs(database: Database, settings: Settings) -> None:
    quiet = Console(quiet=True)
    first = run_demo(
        settings=settings, database=database, config=_small(), console=quiet, train=False
    )
    second = run_demo(
        settings=settings,
        database=database,
        config=_small(),
        reset=True,
        console=quiet,
        train=False,
    )
    assert second.created
    assert first.admin_password != second.admin_password
    with database.system_session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Tenant)) == 1


def test_demo_uses_the_configured_admin(database: Database, settings: Settings) -> None:
    configured = settings.model_copy(
        update={
            "demo_admin_email": "boss@example.com",
            "demo_admin_password": SecretStr("a-long-chosen-password"),
        }
    )
    result = run_demo(
        settings=configured,
        database=database,
        config=_small(),
        console=Console(quiet=True),
        train=False,
    )
    assert result.admin_email == "boss@example.com"
    assert result.admin_password is None  # not generated, so not printed
    with database.system_session() as session:
        admin = session.scalars(sa.select(User)).one()
        assert verify_password("a-long-chosen-password", admin.password_hash)


def test_a_failed_demo_leaves_no_half_built_tenant(
    database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import propensity.demo as demo

    def broken(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError("simulated failure while importing")

    monkeypatch.setattr(demo, "import_frame", broken)
    with pytest.raises(RuntimeError):
        run_demo(settings=settings, database=database, config=_small(), console=Console(quiet=True))
    with database.system_session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Tenant)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
