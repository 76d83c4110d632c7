"""No leakage: features see only data stamped before t, labels only (t, t + horizon], rows
whose horizon passes the end of the data are left out, current-state columns stay out."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from propensity.crm.service import ImportOptions, import_frame
from propensity.db import Database
from propensity.features import ColumnPolicy, build_scoring_frame, build_training_set
from propensity.features.training import TrainingSet
from tests.features.helpers import SECOND, Crm, T, days, new_tenant, subscriber_scenario


def build(database: Database, tenant: int, **options: object) -> TrainingSet:
    with database.tenant_session(tenant) as session:
        return build_training_set(
            session,
            prediction_type="CHURN",
            kind="subscriber",
            data_end=T + days(90),
            max_snapshots=1,
            **options,  # type: ignore[arg-type]
        )


def by_id(training: TrainingSet) -> pd.DataFrame:
    frame = training.frame.copy()
    frame.index = pd.Index(training.external_ids)
    frame["label"] = training.labels
    frame["t"] = training.snapshot_times.to_numpy()
    return frame


def test_features_stop_strictly_before_t(database: Database, tenant: int) -> None:
    subscriber_scenario().load(database, tenant)
    training = build(database, tenant)
    rows = by_id(training)
    assert (rows["t"] == pd.Timestamp(T)).all()
    # The burst one second after t (which reveals the churn) is invisible at t.
    assert rows.loc["s_leak", "payment_failed_30d"] == 0
    assert rows.loc["s_leak", "payment_failed_90d"] == 0
    assert rows.loc["s_leak", "login_7d"] == 1
    assert rows.loc["s_leak", "days_since_login"] == pytest.approx(5)
    # An unknown event type after t does not count either; the one before does.
    assert rows.loc["s_leak", "event_cancel_request_30d"] == 0
    assert rows.loc["s_leak", "days_since_event_cancel_request"] == pytest.approx(200)
    # One second before t counts; exactly at t does not.
    assert rows.loc["s_before", "payment_failed_30d"] == 1
    assert rows.loc["s_before", "days_since_payment_failed"] == pytest.approx(1 / 86_400)
    assert rows.loc["s_at", "payment_failed_30d"] == 0


def test_moving_an_event_across_t_changes_the_feature(database: Database) -> None:
    before, after = new_tenant(database, "before"), new_tenant(database, "after")
    for tenant, at in ((before, T - SECOND), (after, T + SECOND)):
        crm = subscriber_scenario()
        crm.event("s_after", "payment_failed", at, 15.49)
        crm.load(database, tenant)
    a, b = by_id(build(database, before)), by_id(build(database, after))
    assert a.loc["s_after", "payment_failed_30d"] == 1
    assert b.loc["s_after", "payment_failed_30d"] == 0
    # Nothing else moves.
    pd.testing.assert_frame_equal(
        a.drop(columns=[c for c in a.columns if "payment_failed" in c]),
        b.drop(columns=[c for c in b.columns if "payment_failed" in c]),
    )
    with database.tenant_session(after) as session:
        later = build_scoring_frame(
            session, prediction_type="CHURN", kind="subscriber", as_of=T + 2 * SECOND
        )
    row = later.frame.set_index(pd.Index(later.external_ids)).loc["s_after"]
    assert row["payment_failed_30d"] == 1


def test_labels_come_only_from_the_horizon(database: Database, tenant: int) -> None:
    subscriber_scenario().load(database, tenant)
    rows = by_id(build(database, tenant))
    # Churned at t + 10d and at exactly t + 90d: inside (t, t + 90d]; one second later: not.
    assert rows["label"].to_dict() == {"s_leak": 1, "s_before": 0, "s_at": 1, "s_after": 0}
    # Churned at t, created after t, or flagged churned without a date: not in the population.
    assert set(rows.index) == {"s_leak", "s_before", "s_at", "s_after"}


def test_rows_whose_horizon_passes_the_end_are_left_out(database: Database, tenant: int) -> None:
    crm = subscriber_scenario()
    crm.event("s_before", "login", T - days(300))  # a long history: several snapshots fit
    crm.load(database, tenant)
    with database.tenant_session(tenant) as session:
        training = build_training_set(
            session,
            prediction_type="CHURN",
            kind="subscriber",
            max_snapshots=12,
            snapshot_every_days=30,
            data_end=T + days(60),
        )
    end = training.summary.data_end
    assert end is not None
    assert (training.snapshot_times + pd.Timedelta(days=90) <= pd.Timestamp(end)).all()
    assert max(training.summary.snapshot_times) == end - days(90)
    assert len(training.summary.snapshot_times) > 1
    rows = by_id(training)
    newest = rows[rows["t"] == rows["t"].max()]
    # Churn at t + 90d is past this data end: the label window cannot reach it.
    assert newest.loc["s_at", "label"] == 0
    assert newest.loc["s_leak", "label"] == 1
    # Without data_end, the end is the latest stamp in the data (the last churn).
    with database.tenant_session(tenant) as session:
        default = build_training_set(session, prediction_type="CHURN", kind="subscriber")
    assert default.summary.data_end == T + days(90) + SECOND


def test_current_state_columns_are_left_out_in_point_in_time_mode(
    database: Database, tenant: int
) -> None:
    subscriber_scenario().load(database, tenant)
    training = build(database, tenant)
    columns = set(training.frame.columns)
    for name in (
        "payment_failures",
        "watch_time_hours",
        "tenure_months",
        "days_since_last_login_at",
        "last_seen_at",
        "days_since_last_seen_at",
        "churned",
        "churned_at",
    ):
        assert name not in columns
    left_out = set(training.summary.left_out_columns)
    assert {"payment_failures", "watch_time_hours", "last_login_at", "tenure_months"} <= left_out
    assert "last_seen_at" in left_out  # an attribute named like current state
    assert {"plan", "region", "tenure_days", "watch_hours_30d"} <= columns
    assert [d.name for d in training.definitions] == list(training.frame.columns)
    # A tenant that knows a column never changes can say so.
    overridden = build(
        database,
        tenant,
        column_policy=ColumnPolicy.of(static={"tenure_months"}, exclude={"region"}),
    )
    assert "tenure_months" in overridden.frame.columns
    assert "region" not in overridden.frame.columns


def test_static_export_uses_every_column_and_the_flag(database: Database, tenant: int) -> None:
    crm = Crm()
    for i in range(40):
        crm.customer(
            f"c{i}",
            kind="subscriber",
            watch_time_hours=float(i % 7),
            tenure_months=float(i),
            contract="month" if i % 3 else "year",
            total_charges=10.0 * i,
            churn="Yes" if i % 4 == 0 else "No",
        )
    with database.tenant_session(tenant) as session:
        import_frame(
            session,
            kind="customers",
            frame=pd.DataFrame(crm.customers),
            options=ImportOptions(label="churn", positive="Yes"),
        )
        training = build_training_set(session, prediction_type="CHURN")
        first_two = training.entity_ids[:2].tolist()
        scoring = build_scoring_frame(session, prediction_type="CHURN", entity_ids=first_two)
    assert training.mode == "static"
    assert len(training.frame) == 40
    assert training.labels is not None
    assert training.labels.tolist() == [1 if i % 4 == 0 else 0 for i in range(40)]
    assert {"watch_time_hours", "tenure_months", "contract", "total_charges"} <= set(
        training.frame.columns
    )
    assert not {"churn", "churned"} & set(training.frame.columns)
    # Scoring a static data set reads the same "now" and the same columns.
    assert scoring.mode == "static"
    pd.testing.assert_frame_equal(
        scoring.frame, training.frame.iloc[:2][list(scoring.frame.columns)]
    )
    assert list(scoring.frame.columns) == list(training.frame.columns)
    assert isinstance(training.summary.data_end, datetime)
    assert np.isnan(training.frame["tenure_days"]).all()
