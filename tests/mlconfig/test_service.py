"""The per-tenant ML configuration: defaults, partial updates, validation, isolation."""

from __future__ import annotations

import pytest

from propensity.db import Database
from propensity.errors import InvalidInput
from propensity.mlconfig import load_ml_config, update_ml_config
from propensity.models import Tenant
from propensity.settings import Settings
from tests.factories import make_tenant_user


def test_a_partial_update_merges_validates_and_persists_per_tenant(
    database: Database, settings: Settings
) -> None:
    acme = make_tenant_user(database, settings, slug="acme")
    other = make_tenant_user(database, settings, slug="other")
    with database.tenant_session(acme.tenant_id) as session:
        assert load_ml_config(session, tenant_id=acme.tenant_id).scoring.maxBatchSize == 1000
        updated = update_ml_config(
            session,
            tenant_id=acme.tenant_id,
            patch={
                "scoring": {"maxBatchSize": 1500, "timeout": 45000},
                "monitoring": {"alertThresholds": {"accuracyDrop": 0.03}},
            },
        )
    assert updated.scoring.maxBatchSize == 1500
    assert updated.scoring.caching.ttl == 3600  # untouched parts keep their values
    with database.tenant_session(acme.tenant_id) as session:
        again = load_ml_config(session, tenant_id=acme.tenant_id)
    assert again.scoring.timeout == 45000
    assert again.monitoring.alertThresholds.accuracyDrop == 0.03
    assert again.monitoring.alertThresholds.latencyIncrease == 100
    with database.tenant_session(other.tenant_id) as session:
        assert load_ml_config(session, tenant_id=other.tenant_id).scoring.maxBatchSize == 1000


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"scoring": {"maxBatchSize": 0}}, "scoring.maxBatchSize"),
        ({"scoring": {"timeout": "soon"}}, "scoring.timeout"),
        ({"training": {"validationSplit": 0.9}}, "training.validationSplit"),
        ({"monitoring": {"alertThreshold": {}}}, "monitoring.alertThreshold"),
    ],
)
def test_a_bad_value_names_the_field_and_changes_nothing(
    database: Database, settings: Settings, patch: dict[str, object], field: str
) -> None:
    acme = make_tenant_user(database, settings, slug="acme")
    with database.tenant_session(acme.tenant_id) as session:
        with pytest.raises(InvalidInput) as raised:
            update_ml_config(session, tenant_id=acme.tenant_id, patch=patch)
        assert field in raised.value.message
    with database.tenant_session(acme.tenant_id) as session:
        config = load_ml_config(session, tenant_id=acme.tenant_id)
    assert config.scoring.maxBatchSize == 1000 and config.training.validationSplit == 0.2


def test_a_document_changed_behind_the_service_is_read_at_once(
    database: Database, settings: Settings
) -> None:
    """The validated configuration is kept between requests, but only while the stored document
    is the same: another process's write (here, the row changed directly) is seen next time."""
    acme = make_tenant_user(database, settings, slug="acme")
    with database.tenant_session(acme.tenant_id) as session:
        first = load_ml_config(session, tenant_id=acme.tenant_id)
        assert load_ml_config(session, tenant_id=acme.tenant_id) is first  # kept
    with database.system_session() as session:
        tenant = session.get(Tenant, acme.tenant_id)
        assert tenant is not None
        tenant.settings = {**(tenant.settings or {}), "ml": {"scoring": {"timeout": 5000}}}
        session.commit()
    with database.tenant_session(acme.tenant_id) as session:
        assert load_ml_config(session, tenant_id=acme.tenant_id).scoring.timeout == 5000
    with database.system_session() as session:
        tenant = session.get(Tenant, acme.tenant_id)
        assert tenant is not None
        tenant.settings = {}
        session.commit()
    with database.tenant_session(acme.tenant_id) as session:
        assert load_ml_config(session, tenant_id=acme.tenant_id).scoring.timeout == 30_000
    # A session without the tenant (a job's, an operator's) reads it by id, to the same answer.
    with database.system_session() as session:
        assert load_ml_config(session, tenant_id=acme.tenant_id).scoring.timeout == 30_000
