"""Shared fixtures: a real, migrated database per test (SQLite by default, PostgreSQL when
PROPENSITY_TEST_DATABASE_URL is set), settings in a temporary home, and an HTTP client."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import propensity.models  # noqa: F401 - registers every table on Base.metadata
from propensity.app import create_app
from propensity.db import Base, Database
from propensity.migrate import upgrade
from propensity.settings import Settings

# Queue fixtures (`cfg`, `queue`) used by both tests/jobs and tests/api_v1.
pytest_plugins = ("tests.jobs.fixtures",)

PG_URL = os.environ.get("PROPENSITY_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("PROPENSITY_TEST_REDIS_URL")
TEST_SECRET = "test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once per test process; each test then starts from an empty copy."""
    if PG_URL:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        name = f"propensity_test_{worker}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        return url
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return str(path)


def _empty_all_tables(url: str) -> None:
    engine = sa.create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(_migrated_template: str, tmp_path: Path) -> str:
    if PG_URL:
        _empty_all_tables(_migrated_template)
        return _migrated_template
    path = tmp_path / "propensity.db"
    shutil.copyfile(_migrated_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        home=tmp_path / "home",
        database_url=database_url,
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
        redis_url=REDIS_URL,
    )


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    db = Database(settings.resolved_database_url)
    yield db
    db.dispose()


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, database)) as test_client:
        yield test_client
