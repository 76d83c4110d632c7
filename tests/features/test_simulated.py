"""On a small simulated tenant: training and scoring agree value for value, and the simulator's
true drivers show in the built features (docs/simulator.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from propensity.db import Database
from propensity.features import build_scoring_frame, build_training_set
from propensity.simulator import SimulatedData
from tests.features.helpers import load_simulation

TYPES = (
    ("CHURN", "subscriber"),
    ("CHURN", "account"),
    ("CONVERSION", None),
    ("TIME_TO_CLOSE", None),
    ("HEALTH_TREND", None),
)


def test_training_and_scoring_compute_the_same_values(
    database: Database, tenant: int, small_sim: SimulatedData
) -> None:
    load_simulation(database, tenant, small_sim)
    with database.tenant_session(tenant) as session:
        for prediction_type, kind in TYPES:
            training = build_training_set(
                session, prediction_type=prediction_type, kind=kind, max_rows=None
            )
            assert training.mode == "point_in_time"
            assert [d.name for d in training.definitions] == list(training.frame.columns)
            newest = training.snapshot_times.max()
            at_newest = (training.snapshot_times == newest).to_numpy()
            expected = training.frame[at_newest].reset_index(drop=True)
            ids = training.entity_ids[at_newest]
            # Everyone at once (one scan of the events) and a few by id (an IN list).
            everyone = build_scoring_frame(
                session, prediction_type=prediction_type, kind=kind, as_of=newest.to_pydatetime()
            )
            assert list(everyone.frame.columns) == list(training.frame.columns)
            position = {int(e): i for i, e in enumerate(everyone.entity_ids)}
            # Health trend drops rows without a target 30 days on; the rest are all alive.
            assert set(ids.tolist()) <= set(position)
            if prediction_type != "HEALTH_TREND":
                assert len(ids) == len(position)
            rows = [position[int(e)] for e in ids]
            pd.testing.assert_frame_equal(
                everyone.frame.iloc[rows].reset_index(drop=True), expected, check_exact=True
            )
            few = build_scoring_frame(
                session,
                prediction_type=prediction_type,
                kind=kind,
                entity_ids=ids[:5].tolist(),
                as_of=newest.to_pydatetime(),
            )
            assert few.entity_ids.tolist() == ids[:5].tolist()
            pd.testing.assert_frame_equal(few.frame, expected.iloc[:5], check_exact=True)


def test_true_drivers_show_in_the_features(
    database: Database, tenant: int, small_sim: SimulatedData
) -> None:
    load_simulation(database, tenant, small_sim)
    with database.tenant_session(tenant) as session:
        subscribers = build_training_set(session, prediction_type="CHURN", kind="subscriber")
        accounts = build_training_set(session, prediction_type="CHURN", kind="account")
        leads = build_training_set(session, prediction_type="CONVERSION")
        closing = build_training_set(session, prediction_type="TIME_TO_CLOSE")
        health = build_training_set(session, prediction_type="HEALTH_TREND")

    def means(training: object, *columns: str) -> pd.DataFrame:
        frame = training.frame.assign(label=training.labels)  # type: ignore[attr-defined]
        return frame.groupby("label")[list(columns)].mean()

    assert subscribers.labels is not None and 0.01 < subscribers.labels.mean() < 0.2
    sub = means(subscribers, "payment_failed_90d", "watch_hours_30d", "days_since_login")
    assert sub.loc[1, "payment_failed_90d"] > 1.5 * sub.loc[0, "payment_failed_90d"]
    assert sub.loc[1, "watch_hours_30d"] < sub.loc[0, "watch_hours_30d"]
    assert sub.loc[1, "days_since_login"] > sub.loc[0, "days_since_login"]

    acc = means(accounts, "health_score_current", "open_tickets", "days_to_renewal")
    assert acc.loc[1, "health_score_current"] < acc.loc[0, "health_score_current"] - 5
    assert acc.loc[1, "open_tickets"] > acc.loc[0, "open_tickets"]
    assert acc.loc[1, "days_to_renewal"] < acc.loc[0, "days_to_renewal"]

    # Interest shows as clicks per email; cumulative counts grow with age, which converts
    # less, so compare rates.
    conv = means(leads, "email_click_rate", "email_open_rate", "demo_meeting_14d")
    assert conv.loc[1, "email_click_rate"] > conv.loc[0, "email_click_rate"]
    assert conv.loc[1, "demo_meeting_14d"] > conv.loc[0, "demo_meeting_14d"]
    frame = leads.frame.assign(label=leads.labels)
    by_domain = frame.groupby("email_domain_type")["label"].mean()
    assert by_domain["corporate"] > by_domain["free"]
    by_title = frame.groupby("title_seniority")["label"].mean()
    assert by_title["c_level"] > by_title["individual_contributor"]

    assert closing.durations_days is not None and closing.observed is not None
    assert (closing.durations_days > 0).all()
    assert 0 < closing.observed.mean() < 1
    fast = closing.frame["timeline"].eq("1-3 months").to_numpy() & closing.observed
    slow = closing.frame["timeline"].eq("1+ years").to_numpy() & closing.observed
    assert np.median(closing.durations_days[fast]) < np.median(closing.durations_days[slow])

    assert health.targets is not None and health.current_scores is not None
    known = ~np.isnan(health.current_scores)
    assert np.corrcoef(health.targets[known], health.current_scores[known])[0, 1] > 0.6
