"""Applies Alembic migrations programmatically (`propensity db upgrade`, serve, demo)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrates, then refreshes the query planner's statistics (see
    db.refresh_planner_statistics), so every start of the service plans with them."""
    from propensity.db import create_db_engine, refresh_planner_statistics
    from propensity.write_signal import signal_for

    command.upgrade(alembic_config(url), revision)
    # Alembic writes through an engine of its own: processes of this machine still serving
    # must not keep answers from before a data migration (write_signal.py).
    signal_for(url, redis_url=None).raise_for(None)
    engine = create_db_engine(url)
    try:
        with engine.begin() as conn:
            refresh_planner_statistics(conn)
    finally:
        engine.dispose()


def migrate_database() -> None:
    """Migrates the configured database (creating a SQLite database's home folder first)."""
    from propensity.db import get_database
    from propensity.settings import get_settings

    settings = get_settings()
    get_database(settings)
    upgrade(settings.resolved_database_url)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    from propensity.db import create_db_engine

    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
