"""`propensity train`, `score` and `models list` against the test database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from propensity.cli import app
from propensity.cli_commands import register
from propensity.db import Database, dispose_all
from propensity.settings import Settings, reset_settings_cache
from tests.factories import make_simulated_tenant


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PROPENSITY_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("PROPENSITY_HOME", str(settings.home))
    reset_settings_cache()
    register(app)
    yield
    dispose_all()
    reset_settings_cache()


@pytest.mark.usefixtures("cli_env")
def test_train_score_and_list(database: Database, settings: Settings, tmp_path: Path) -> None:
    make_simulated_tenant(database, settings, slug="cli", leads=1200)
    runner = CliRunner()
    trained = runner.invoke(app, ["train", "CONVERSION", "--tenant", "cli"])
    assert trained.exit_code == 0, trained.output
    assert '"version": "v1"' in trained.stdout
    export = tmp_path / "scores.csv"
    scored = runner.invoke(app, ["score", "CONVERSION", "--tenant", "cli", "--export", str(export)])
    assert scored.exit_code == 0, scored.output
    frame = pd.read_csv(export)
    assert len(frame) > 100
    assert frame["probability"].between(0, 1).all()
    assert frame["id"].str.startswith("lead_").all()
    listed = runner.invoke(app, ["models", "list", "--tenant", "cli"])
    assert listed.exit_code == 0, listed.output
    assert "CONVERSION" in listed.stdout and "active" in listed.stdout


@pytest.mark.usefixtures("cli_env")
def test_cli_reports_missing_models_and_bad_types(database: Database, settings: Settings) -> None:
    make_simulated_tenant(database, settings, slug="empty", leads=5)
    runner = CliRunner()
    missing = runner.invoke(app, ["score", "CONVERSION", "--tenant", "empty"])
    assert missing.exit_code == 1
    assert "train one first" in missing.output
    bad = runner.invoke(app, ["train", "SCORE", "--tenant", "empty"])
    assert bad.exit_code == 1
    assert "trainable types" in bad.output
