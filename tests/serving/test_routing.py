"""Which version serves: read with one statement, the version rows from the process's copies
while their stamps say they are current."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from propensity.db import Database, utcnow
from propensity.models import Deployment, ModelVersion
from propensity.registry.service import activate
from propensity.serving.routing import serving_models_or_none, version_copies
from propensity.settings import Settings
from propensity.vocabulary import PredictionType
from tests.factories import make_tenant_user

CHURN = PredictionType.CHURN


def _version(session: sa.orm.Session, number: int, *, status: str = "active") -> ModelVersion:
    version = ModelVersion(
        prediction_type="CHURN",
        population="account",
        version_number=number,
        name=f"churn v{number}",
        status=status,
        threshold=0.5,
        artifact_hash=f"hash-{number}",
        feature_stats={"tenure": {"mean": float(number)}},
    )
    session.add(version)
    session.flush()
    return version


def _serving(database: Database, tenant_id: int) -> tuple[int, float | None, str] | None:
    with database.request_session(tenant_id) as session:
        models = serving_models_or_none(session, prediction_type=CHURN, population="account")
        if models is None:
            return None
        active = models.active
        assert active in session  # attached: its deferred columns load through this session
        return active.id, active.threshold, active.feature_stats["tenure"]["mean"]


def test_every_change_to_a_version_is_served_at_once(
    database: Database, settings: Settings
) -> None:
    version_copies.clear()
    owner = make_tenant_user(database, settings)
    with database.tenant_session(owner.tenant_id) as session:
        first = _version(session, 1).id
    assert _serving(database, owner.tenant_id) == (first, 0.5, 1.0)
    assert _serving(database, owner.tenant_id) == (first, 0.5, 1.0)  # from the copy

    with database.tenant_session(owner.tenant_id) as session:  # an ORM update
        version = session.get(ModelVersion, first)
        assert version is not None
        version.threshold = 0.7
    assert _serving(database, owner.tenant_id) == (first, 0.7, 1.0)

    with database.tenant_session(owner.tenant_id) as session:  # a Core update
        session.execute(
            sa.update(ModelVersion).where(ModelVersion.id == first).values(threshold=0.4)
        )
    assert _serving(database, owner.tenant_id) == (first, 0.4, 1.0)

    with database.tenant_session(owner.tenant_id) as session:  # another version activated
        second = _version(session, 2, status="inactive")
        activate(session, version=second)
        second_id = second.id
    assert _serving(database, owner.tenant_id) == (second_id, 0.5, 2.0)


def test_a_copy_never_serves_another_tenant(database: Database, settings: Settings) -> None:
    version_copies.clear()
    acme = make_tenant_user(database, settings, slug="acme")
    other = make_tenant_user(database, settings, slug="other")
    with database.tenant_session(acme.tenant_id) as session:
        version = _version(session, 1).id
    assert _serving(database, acme.tenant_id) == (version, 0.5, 1.0)
    assert _serving(database, other.tenant_id) is None


def test_a_running_deployment_routes_to_its_challenger(
    database: Database, settings: Settings
) -> None:
    version_copies.clear()
    owner = make_tenant_user(database, settings)
    with database.tenant_session(owner.tenant_id) as session:
        champion = _version(session, 1)
        challenger = _version(session, 2, status="inactive")
        session.add(
            Deployment(
                prediction_type="CHURN",
                population="account",
                champion_version_id=champion.id,
                challenger_version_id=challenger.id,
                traffic_split=0.5,
                ends_at=utcnow() + timedelta(days=7),
            )
        )
        ids = (champion.id, challenger.id)
    for _ in range(2):  # read, then from the copies
        with database.request_session(owner.tenant_id) as session:
            models = serving_models_or_none(session, prediction_type=CHURN, population="account")
            assert models is not None and models.challenger is not None
            assert (models.active.id, models.challenger.id) == ids
            routes = {role for _, role in models.route(range(200)).values()}
            assert routes == {"champion", "challenger"}
