"""The administrative CLI commands, run in-process against the test database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from propensity.cli import app
from propensity.db import Database, dispose_all
from propensity.models import Tenant, User
from propensity.settings import Settings, reset_settings_cache
from propensity.tenancy.passwords import verify_password


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PROPENSITY_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("PROPENSITY_HOME", str(settings.home))
    reset_settings_cache()
    yield
    dispose_all()
    reset_settings_cache()


def _run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


@pytest.mark.usefixtures("cli_env")
def test_tenant_and_user_creation_with_generated_password(database: Database) -> None:
    code, out = _run("tenant", "create", "globex")
    assert code == 0, out
    code, out = _run(
        "user", "create", "--tenant", "globex", "--email", "ops@globex.com", "--role", "analyst"
    )
    assert code == 0, out
    password = out.split("password (shown once):")[1].strip()
    with database.system_session() as session:
        user = session.scalars(sa.select(User)).one()
        tenant = session.scalars(sa.select(Tenant)).one()
        assert (user.role, user.tenant_id, tenant.slug) == ("analyst", tenant.id, "globex")
        assert password not in user.password_hash
        assert verify_password(password, user.password_hash)


@pytest.mark.usefixtures("cli_env")
def test_user_password_from_stdin_is_not_printed(database: Database) -> None:
    assert _run("tenant", "create", "initech")[0] == 0
    code, out = _run(
        "user",
        "create",
        "--tenant",
        "initech",
        "--email",
        "bill@initech.com",
        "--role",
        "admin",
        "--password-stdin",
        stdin="tps-report-cover\n",
    )
    assert code == 0, out
    assert "tps-report-cover" not in out
    with database.system_session() as session:
        user = session.scalars(sa.select(User)).one()
        assert verify_password("tps-report-cover", user.password_hash)


@pytest.mark.usefixtures("cli_env")
def test_cli_errors_are_messages_with_nonzero_exit(database: Database) -> None:
    assert _run("tenant", "create", "acme")[0] == 0
    code, out = _run("tenant", "create", "acme")
    assert code == 1
    assert "already exists" in out
    code, out = _run("tenant", "create", "Not A Slug!")
    assert code == 1
    assert "lowercase" in out
    code, out = _run("user", "create", "--tenant", "acme", "--email", "x@acme.com", "--role", "god")
    assert code == 1
    assert "viewer, analyst, admin" in out
    code, out = _run("user", "create", "--tenant", "nope", "--email", "x@acme.com")
    assert code == 1
    assert "not found" in out
    with database.system_session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_first_command_on_a_fresh_home_creates_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "not" / "yet" / "there"
    monkeypatch.setenv("PROPENSITY_HOME", str(home))
    monkeypatch.delenv("PROPENSITY_DATABASE_URL", raising=False)
    reset_settings_cache()
    try:
        code, out = _run("tenant", "create", "fresh")
    finally:
        dispose_all()
        reset_settings_cache()
    assert code == 0, out
    assert (home / "propensity.db").exists()
