from pathlib import Path

import pytest

from propensity.settings import Settings, WeakSecretKeyError


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, home=tmp_path, **values)  # type: ignore[arg-type,call-arg]


def test_generated_secret_key_is_created_once_and_reused(tmp_path: Path) -> None:
    first = _settings(tmp_path).signing_key()
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert _settings(tmp_path).signing_key() == first


def test_production_refuses_a_missing_or_weak_key(tmp_path: Path) -> None:
    with pytest.raises(WeakSecretKeyError, match="must be set"):
        _settings(tmp_path, environment="production").signing_key()
    with pytest.raises(WeakSecretKeyError, match="too weak"):
        _settings(tmp_path, environment="production", secret_key="changeme").signing_key()
    strong = "f3a9c1d27be84e0f9a6d5c4b3a29180e7f6d5c4b"
    assert _settings(tmp_path, environment="production", secret_key=strong).signing_key() == strong


def test_default_database_is_sqlite_in_home(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'propensity.db').resolve()}"


def test_environment_variables_configure_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROPENSITY_HOME", str(tmp_path))
    monkeypatch.setenv("PROPENSITY_REGISTRATION_ENABLED", "false")
    monkeypatch.setenv("PROPENSITY_TOKEN_LIFETIME_MINUTES", "15")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.home == tmp_path
    assert settings.registration_enabled is False
    assert settings.token_lifetime_minutes == 15
