"""Migrations are the only way the schema is made, so they must match the models exactly."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from propensity.db import Base
from propensity.migrate import current_revision, downgrade, upgrade


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
