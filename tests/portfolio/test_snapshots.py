"""Portfolio snapshots: recorded from the ACTIVE predictions, idempotent per date, and
back-filled point-in-time without touching the current predictions."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from propensity.db import Database
from propensity.models import Customer, PortfolioSnapshot, Prediction
from propensity.portfolio.service import (
    backfill_history,
    point_in_time_population,
    record_portfolio_snapshot,
    score_past,
)
from propensity.portfolio.tasks import snapshot_tenant, tenants_with_churn_model
from propensity.predictions.scoring import score_entities
from propensity.settings import Settings
from tests.factories import make_tenant_user
from tests.portfolio.trained import AS_OF, trained_churn_tenant


def _snapshots(database: Database, tenant_id: int) -> list[PortfolioSnapshot]:
    with database.tenant_session(tenant_id) as session:
        return list(
            session.scalars(
                sa.select(PortfolioSnapshot).order_by(PortfolioSnapshot.snapshot_date)
            ).all()
        )


def test_no_model_records_nothing(database: Database, settings: Settings) -> None:
    user = make_tenant_user(database, settings)
    with database.tenant_session(user.tenant_id) as session:
        assert record_portfolio_snapshot(session, as_of=AS_OF) is None
    assert backfill_history(database, tenant_id=user.tenant_id, days=14, every_days=7) == []


def test_snapshots_record_backfill_and_run_daily(database: Database, settings: Settings) -> None:
    user = trained_churn_tenant(database, settings)
    tenant = user.tenant_id

    # A live snapshot aggregates the ACTIVE predictions; recording the date again replaces it.
    with database.tenant_session(tenant) as session:
        live = record_portfolio_snapshot(session, as_of=AS_OF)
        assert live is not None
        threshold = live.threshold
        assert threshold is not None
        probabilities = session.scalars(
            sa.select(Prediction.probability)
            .join(Customer, Customer.id == Prediction.customer_id)
            .where(Prediction.status == "ACTIVE", Customer.churned_at.is_(None))
        ).all()
        assert live.total_customers == len(probabilities) > 0
        assert live.at_risk_count == sum(
            1 for p in probabilities if p is not None and p >= threshold
        )
        assert sum(live.cohorts.values()) <= live.total_customers
        again = record_portfolio_snapshot(session, as_of=AS_OF + timedelta(hours=3))
        assert again is not None and again.id == live.id
    assert len(_snapshots(database, tenant)) == 1

    # Back-fill: past dates scored point-in-time, no predictions written.
    with database.tenant_session(tenant) as session:
        predictions_before = session.scalar(sa.select(sa.func.count()).select_from(Prediction))
    written = backfill_history(database, tenant_id=tenant, days=56, every_days=28, end=AS_OF)
    assert [s.snapshot_date for s in written] == [
        (AS_OF - timedelta(days=56)).date(),
        (AS_OF - timedelta(days=28)).date(),
    ]
    with database.tenant_session(tenant) as session:
        predictions_after = session.scalar(sa.select(sa.func.count()).select_from(Prediction))
    assert predictions_after == predictions_before
    stored = _snapshots(database, tenant)
    assert [s.source for s in stored] == ["backfill", "backfill", "live"]
    figures = {(s.total_customers, s.at_risk_count, s.average_risk_score) for s in stored}
    assert len(figures) == 3, "history must differ across dates, not repeat the current one"

    # Subscribers churned before a past date are not in that date's population.
    past = AS_OF - timedelta(days=28)
    with database.tenant_session(tenant) as session:
        scores = score_past(session, as_of=past)
        run = score_entities(session, prediction_type="CHURN", kind="subscriber", as_of=past)
        # The same model and point-in-time features as the full scoring path.
        assert scores.probabilities == pytest.approx(
            {r.entity_id: r.probability for r in run.results}
        )
        population = point_in_time_population(session, scores=scores, end=AS_OF)
        ids = [c.customer_id for c in population]
        churned = session.scalars(sa.select(Customer.churned_at).where(Customer.id.in_(ids))).all()
        churned_before = session.scalar(
            sa.select(sa.func.count())
            .select_from(Customer)
            .where(Customer.kind == "subscriber", Customer.churned_at <= past)
        )
    assert ids and all(c is None or c > past for c in churned)
    # Profiles are as of the past date: no purchase after it is known.
    purchases = [c.profile.last_purchase_at for c in population]
    assert any(purchases) and all(p is None or p <= past for p in purchases)
    assert churned_before and churned_before > 0
    assert stored[1].total_customers == len(population)

    # The daily task finds the tenant, rescoring and recording today's snapshot.
    assert tenant in tenants_with_churn_model(database)
    snapshot_tenant(database, tenant_id=tenant)
    assert len(_snapshots(database, tenant)) == 4


def test_snapshots_are_tenant_owned(database: Database, settings: Settings) -> None:
    user = trained_churn_tenant(database, settings)
    other = make_tenant_user(database, settings, slug="other")
    with database.tenant_session(user.tenant_id) as session:
        record_portfolio_snapshot(session, as_of=AS_OF)
    assert len(_snapshots(database, user.tenant_id)) == 1
    assert _snapshots(database, other.tenant_id) == []
    assert other.tenant_id not in tenants_with_churn_model(database)
