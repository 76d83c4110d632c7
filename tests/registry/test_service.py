from __future__ import annotations

import pytest

from propensity.db import Database
from propensity.errors import Conflict, NotFound
from propensity.models import ModelStatus
from propensity.registry.service import (
    ArtifactCache,
    activate,
    active_version,
    get_version,
    list_versions,
    start_version,
    store_artifact,
)
from propensity.settings import Settings
from tests.factories import make_tenant_user


def _trained(session, *, population: str = "subscriber", content: bytes = b"model-bytes"):  # type: ignore[no-untyped-def]
    version = start_version(session, prediction_type="CHURN", population=population)
    store_artifact(session, version=version, content=content)
    version.status = ModelStatus.INACTIVE.value
    return version


def test_versions_number_per_type_and_population(database: Database, settings: Settings) -> None:
    t = make_tenant_user(database, settings)
    with database.tenant_session(t.tenant_id) as session:
        a1 = _trained(session)
        a2 = _trained(session)
        b1 = _trained(session, population="account")
        assert (a1.version, a2.version, b1.version) == ("v1", "v2", "v1")
        assert a1.artifact_hash and len(a1.artifact_hash) == 64


def test_one_active_model_per_type_and_population(database: Database, settings: Settings) -> None:
    t = make_tenant_user(database, settings)
    with database.tenant_session(t.tenant_id) as session:
        first, second = _trained(session), _trained(session)
        other = _trained(session, population="account")
        activate(session, version=other)
        activate(session, version=first)
        activate(session, version=second)
        session.flush()
        statuses = {v.id: v.status for v in list_versions(session)}
        assert statuses == {first.id: "inactive", second.id: "active", other.id: "active"}
        active = active_version(session, prediction_type="CHURN", population="subscriber")
        assert active is not None and active.id == second.id


def test_models_in_training_cannot_be_activated(database: Database, settings: Settings) -> None:
    t = make_tenant_user(database, settings)
    with database.tenant_session(t.tenant_id) as session:
        version = start_version(session, prediction_type="CHURN", population="subscriber")
        with pytest.raises(Conflict):
            activate(session, version=version)


def test_another_tenants_models_are_not_found(database: Database, settings: Settings) -> None:
    a = make_tenant_user(database, settings, slug="a")
    b = make_tenant_user(database, settings, slug="b")
    with database.tenant_session(a.tenant_id) as session:
        version = _trained(session)
        activate(session, version=version)
        version_id = version.id
    with database.tenant_session(b.tenant_id) as session:
        with pytest.raises(NotFound):
            get_version(session, version_id=version_id)
        assert active_version(session, prediction_type="CHURN") is None
        assert list_versions(session) == []


def test_artifacts_load_once_per_process(database: Database, settings: Settings) -> None:
    t = make_tenant_user(database, settings)
    loads: list[bytes] = []

    def loader(content: bytes) -> str:
        loads.append(content)
        return content.decode()

    cache = ArtifactCache()
    with database.tenant_session(t.tenant_id) as session:
        version = _trained(session, content=b"abc")
        assert cache.get(session, version=version, loader=loader) == "abc"
        assert cache.get(session, version=version, loader=loader) == "abc"
    assert loads == [b"abc"]
