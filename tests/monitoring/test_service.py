"""Drift and performance of a model trained on a simulated tenant: the issue's criterion
"importing shifted data raises the drift score of the shifted feature and not of the others"."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from propensity.db import Database
from propensity.mlconfig.service import load_ml_config
from propensity.models import Lead, Prediction
from propensity.monitoring import drift as stats
from propensity.monitoring.report import model_performance
from propensity.monitoring.service import model_drift
from propensity.monitoring.store import latest_drift
from propensity.monitoring.tasks import check_drift
from propensity.predictions.batch import score_portfolio
from propensity.settings import Settings
from propensity.timefmt import iso_z
from tests.monitoring.helpers import DATA_END, trained_lead_tenant, version_of

SHIFTED = "budget"


def _open_leads() -> sa.ColumnElement[bool]:
    return sa.and_(Lead.converted_at.is_(None), Lead.lost_at.is_(None))


def test_shifting_one_feature_raises_its_drift_and_no_other(
    database: Database, settings: Settings
) -> None:
    user, version_id = trained_lead_tenant(database, settings)
    with database.tenant_session(user.tenant_id) as session:
        before = model_drift(session, version=version_of(session, version_id), as_of=DATA_END)
    # Import shifted data: every open lead's budget four times what it was.
    with database.tenant_session(user.tenant_id) as session:
        session.execute(sa.update(Lead).where(_open_leads()).values(budget=Lead.budget * 4))
    with database.tenant_session(user.tenant_id) as session:
        after = model_drift(session, version=version_of(session, version_id), as_of=DATA_END)

    assert before.rows == after.rows > 50
    old = {d.name: d for d in before.features}
    new = {d.name: d for d in after.features}
    assert set(old) == set(new) and SHIFTED in new
    assert old[SHIFTED].psi < stats.PSI_STABLE and not old[SHIFTED].drifted
    assert new[SHIFTED].psi > stats.PSI_SIGNIFICANT and new[SHIFTED].drifted
    assert new[SHIFTED].test.p_value is not None and new[SHIFTED].test.p_value < 1e-6
    for name in set(new) - {SHIFTED}:
        assert new[name].psi == pytest.approx(old[name].psi, abs=1e-12), name
        assert new[name].drifted == old[name].drifted, name
    assert after.overall is not None and before.overall is not None
    assert after.overall > before.overall
    assert SHIFTED in [d.name for d in after.drifted_features()]
    assert any(SHIFTED in r["reason"] for r in after.recommendations)
    payload = after.to_dict()
    assert payload["driftAnalysis"]["featureDrift"][SHIFTED] == round(new[SHIFTED].psi, 6)


def test_unshifted_data_stays_below_the_retrain_threshold(
    database: Database, settings: Settings
) -> None:
    """The live open leads differ from the training snapshots in their age mix alone: the clock
    features (lead age, days since created or since the last activity) move, are reported as
    such, and neither reach the overall score nor recommend retraining (ADR 0009)."""
    user, version_id = trained_lead_tenant(database, settings)
    with database.tenant_session(user.tenant_id) as session:
        report = model_drift(session, version=version_of(session, version_id), as_of=DATA_END)
        threshold = load_ml_config(session, tenant_id=user.tenant_id).training.retrainThreshold
    assert threshold == 0.05  # the default configuration
    assert report.overall is not None and report.overall < threshold
    assert not [r for r in report.recommendations if r["type"] == "retraining"]
    clock = {d.name: d for d in report.features if d.clock}
    assert {"days_since_created", "lead_age_weeks", "days_since_last_activity"} <= set(clock)
    # They do move on unshifted data (which is why they must not count), but the
    # recommendations and the drifted list ignore them.
    assert any(d.drifted for d in clock.values())
    assert not [r for r in report.recommendations if any(n in r["reason"] for n in clock)]
    assert not set(clock) & {d.name for d in report.drifted_features()}
    payload = report.to_dict()["driftAnalysis"]
    assert set(payload["clockFeatures"]) == set(clock)
    assert any("Clock features moved" in note for note in payload["notes"])
    flagged = {f["feature"] for f in payload["features"] if f["clock"]}
    assert flagged == set(clock)
    # The stored daily check (what automatic retraining reads) says the same.
    assert check_drift(database, now=DATA_END) == 1
    with database.tenant_session(user.tenant_id) as session:
        stored = latest_drift(session, tenant_id=user.tenant_id, model_id=version_id)
    assert stored is not None and stored["overallDrift"] < threshold
    assert not [r for r in stored["recommendations"] if r["type"] == "retraining"]


def test_score_drift_needs_recorded_predictions_then_compares_with_the_first(
    database: Database, settings: Settings
) -> None:
    user, version_id = trained_lead_tenant(database, settings)
    with database.tenant_session(user.tenant_id) as session:
        report = model_drift(session, version=version_of(session, version_id), as_of=DATA_END)
    assert report.scores is None and report.score_note
    assert report.concept is None and report.concept_note

    score_portfolio(
        lambda: database.tenant_session(user.tenant_id),
        prediction_type="CONVERSION",
        as_of=DATA_END,
        settings=settings,
    )
    with database.tenant_session(user.tenant_id) as session:
        version = version_of(session, version_id)
        unchanged = model_drift(session, version=version, as_of=DATA_END)
        # Validate every prediction: the flagged ones as wrong, the rest as right.
        threshold = float(version.threshold or 0.5)
        session.execute(
            sa.update(Prediction)
            .where(Prediction.model_version_id == version_id)
            .values(
                was_accurate=Prediction.probability < threshold,
                actual_value=0.0,
                validated_at=DATA_END - timedelta(days=1),
            )
        )
    assert unchanged.scores is not None
    # The first predictions were made on the same population: no score drift.
    assert unchanged.scores.psi < stats.PSI_STABLE
    assert unchanged.scores.current_rows == unchanged.rows

    with database.tenant_session(user.tenant_id) as session:
        version = version_of(session, version_id)
        validated = model_drift(session, version=version, as_of=DATA_END)
        stored = session.scalars(
            sa.select(Prediction.probability).where(Prediction.model_version_id == version_id)
        ).all()
    assert validated.concept is not None
    flagged = sum(1 for p in stored if p is not None and p >= threshold)
    assert validated.concept.validated == len(stored)
    assert validated.concept.recent_accuracy == pytest.approx(1 - flagged / len(stored))
    # detectedAt: when the newest judgement behind the figure was made, drift or not.
    concept = validated.to_dict()["driftAnalysis"]["conceptDrift"]
    assert concept["detectedAt"] == iso_z(DATA_END - timedelta(days=1))


def test_performance_from_recorded_timings_and_validations(
    database: Database, settings: Settings
) -> None:
    user, version_id = trained_lead_tenant(database, settings)
    now = DATA_END
    score_portfolio(
        lambda: database.tenant_session(user.tenant_id),
        prediction_type="CONVERSION",
        as_of=now,
        settings=settings,
    )
    with database.tenant_session(user.tenant_id) as session:
        ids = session.scalars(
            sa.select(Prediction.id)
            .where(Prediction.model_version_id == version_id)
            .order_by(Prediction.id)
        ).all()
        # 100 timed requests in the last hour (1..100 ms), the rest a day earlier at 5 ms.
        for i, prediction_id in enumerate(ids):
            recent = i < 100
            session.execute(
                sa.update(Prediction)
                .where(Prediction.id == prediction_id)
                .values(
                    latency_ms=float(i + 1) if recent else 5.0,
                    predicted_at=now - timedelta(minutes=30 if recent else 60 * 30),
                    was_accurate=i % 4 != 0,
                    actual_value=1.0 if i % 2 else 0.0,
                    validated_at=now - timedelta(minutes=10),
                )
            )
    with database.tenant_session(user.tenant_id) as session:
        version = version_of(session, version_id)
        hour = model_performance(session, version=version, period="1h", now=now)
        day = model_performance(session, version=version, period="24h", now=now)
    assert hour["metrics"]["predictionCount"] == 100
    assert hour["performance"]["p50Latency"] == pytest.approx(50.5)
    assert hour["performance"]["p99Latency"] == pytest.approx(99.01)
    assert hour["metrics"]["averageLatency"] == pytest.approx(50.5)
    assert hour["performance"]["throughput"] == pytest.approx(100 / 60, rel=1e-3)
    accurate = sum(1 for i in range(len(ids)) if i % 4 != 0) / len(ids)
    assert hour["metrics"]["accuracy"] == pytest.approx(accurate, abs=1e-4)
    assert hour["metrics"]["validatedPredictions"] == len(ids)
    assert day["metrics"]["predictionCount"] == 100  # the others are 30 hours old
    # The 1h latency average (50.5 ms) against the previous hour (no timings): no alert;
    # 24h vs the day before, whose 5 ms requests make a 910% increase above the 100% threshold.
    assert not [a for a in hour["alerts"] if a["type"] == "latency"]
    assert [a for a in day["alerts"] if a["type"] == "latency"]
    held_out = float(version.metrics["accuracy"])
    accuracy_alerts = [a for a in hour["alerts"] if a["type"] == "accuracy"]
    assert bool(accuracy_alerts) == (held_out - hour["metrics"]["accuracy"] > 0.05)
    for alert in hour["alerts"]:
        assert set(alert) == {"type", "severity", "message", "timestamp"}


def test_daily_check_stores_the_latest_drift_per_model(
    database: Database, settings: Settings
) -> None:
    user, version_id = trained_lead_tenant(database, settings)
    assert check_drift(database) == 1
    with database.tenant_session(user.tenant_id) as session:
        stored = latest_drift(session, tenant_id=user.tenant_id, model_id=version_id)
    assert stored is not None and stored["modelId"] == version_id
    assert isinstance(stored["overallDrift"], float)
    assert SHIFTED in stored["featureDrift"]


def test_the_daily_check_is_a_registered_periodic_task() -> None:
    from propensity.jobs.registry import discover_handlers, periodic_specs

    discover_handlers()
    assert "monitoring.daily_drift" in {spec.name for spec in periodic_specs()}
