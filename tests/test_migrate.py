"""Migrations are the only way the schema is made, so they must match the models exactly."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from propensity.db import Base, Database, utcnow
from propensity.migrate import current_revision, downgrade, upgrade
from propensity.models import Customer, ModelArtifact, ModelVersion, Prediction
from propensity.settings import Settings
from tests.factories import make_tenant_user


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_migrations_downgrade_and_upgrade_again(database_url: str) -> None:
    head = current_revision(database_url)
    assert head is not None
    downgrade(database_url, "base")
    engine = sa.create_engine(database_url)
    remaining = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert remaining == set()
    upgrade(database_url)
    assert current_revision(database_url) == head


def test_rebuilding_a_table_keeps_the_rows_that_reference_it(
    database_url: str, database: Database, settings: Settings
) -> None:
    """SQLite rebuilds a table to alter it; with foreign keys enforced, dropping the old copy
    would delete a version's artifact (ON DELETE CASCADE) and unlink its predictions (SET
    NULL). 0013 rebuilds model_versions on SQLite both ways."""
    owner = make_tenant_user(database, settings)
    with database.tenant_session(owner.tenant_id) as session:
        version = ModelVersion(
            prediction_type="CHURN",
            population="account",
            version_number=1,
            name="churn",
            status="active",
        )
        session.add(version)
        session.flush()
        session.add(
            ModelArtifact(
                model_version_id=version.id, content=b"model", content_hash="x", size_bytes=5
            )
        )
        customer = Customer(external_id="c1", kind="account", name="C1")
        session.add(customer)
        session.flush()
        session.add(
            Prediction(
                prediction_type="CHURN",
                customer_id=customer.id,
                model_version_id=version.id,
                valid_until=utcnow(),
            )
        )
    database.dispose()
    downgrade(database_url, "0012")
    upgrade(database_url)
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM model_artifacts")).scalar() == 1
        linked = "SELECT count(*) FROM predictions WHERE model_version_id IS NOT NULL"
        assert conn.execute(sa.text(linked)).scalar() == 1
    engine.dispose()
