"""The online path (a few entities, tenant-wide facts from the cached shape) computes exactly
what the full build computes, and a new import is never served from a stale shape."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from propensity.db import Database
from propensity.features import build_scoring_frame
from propensity.features.online import shape_cache
from propensity.simulator import SimulatedData
from tests.features.helpers import Crm, load_simulation

AS_OF = datetime(2025, 5, 1, tzinfo=UTC)
TYPES = (
    ("CHURN", "subscriber", "usr_bare"),
    ("CHURN", "account", "acc_bare"),
    ("HEALTH_TREND", "account", "acc_bare"),
    ("CONVERSION", None, "lead_bare"),
    ("TIME_TO_CLOSE", None, "lead_bare"),
)


def bare_entities() -> Crm:
    """One customer of each kind and one lead with no events, no health and no attributes."""
    created = datetime(2025, 1, 10, tzinfo=UTC)
    return (
        Crm()
        .customer("acc_bare", kind="account", account_type="CUSTOMER", created_at=created)
        .customer("usr_bare", kind="subscriber", created_at=created)
        .lead("lead_bare", created_at=created)
    )


def test_online_features_equal_the_full_build(
    database: Database, tenant: int, small_sim: SimulatedData
) -> None:
    load_simulation(database, tenant, small_sim)
    bare_entities().load(database, tenant)
    with database.tenant_session(tenant) as session:
        for prediction_type, kind, bare in TYPES:
            full = build_scoring_frame(
                session, prediction_type=prediction_type, kind=kind, as_of=AS_OF
            )
            externals = list(full.external_ids)
            assert bare in externals
            # Several entities spread over the population, and the bare one.
            picks = [*range(0, len(externals), max(1, len(externals) // 6)), externals.index(bare)]
            ids = [int(full.entity_ids[i]) for i in picks]
            shape_cache.clear()
            for chunk in ([ids[0]], ids):
                online = build_scoring_frame(
                    session,
                    prediction_type=prediction_type,
                    kind=kind,
                    entity_ids=chunk,
                    as_of=AS_OF,
                    mode="point_in_time",
                    features=list(full.frame.columns),
                )
                # The shape was used (and cached), so this was the online path.
                assert len(shape_cache) == 1
                assert online.entity_ids.tolist() == chunk
                expected = full.frame.iloc[[picks[ids.index(i)] for i in chunk]]
                pd.testing.assert_frame_equal(
                    online.frame, expected.reset_index(drop=True), check_exact=True
                )
            bare_row = online.frame.iloc[-1]
            assert online.external_ids[-1] == bare
            if kind is not None:
                assert bare_row["tenure_days"] == (AS_OF - datetime(2025, 1, 10, tzinfo=UTC)).days
            if prediction_type == "CHURN":
                # No events at all: counts are 0, not missing, as in the full build.
                assert bare_row["activity_30d"] == 0 and bare_row["activity_90d"] == 0


def test_a_new_import_changes_the_columns_of_the_next_online_build(
    database: Database, tenant: int
) -> None:
    at = datetime(2025, 3, 1, tzinfo=UTC)
    Crm().customer("a1", kind="subscriber", created_at=datetime(2024, 1, 1, tzinfo=UTC)).customer(
        "a2", kind="subscriber", created_at=datetime(2024, 1, 1, tzinfo=UTC)
    ).event("a1", "login", datetime(2025, 2, 1, tzinfo=UTC)).load(database, tenant)
    with database.tenant_session(tenant) as session:
        first = build_scoring_frame(session, prediction_type="CHURN", as_of=at)
        a2 = int(first.entity_ids[list(first.external_ids).index("a2")])

        def online() -> pd.DataFrame:
            return build_scoring_frame(
                session, prediction_type="CHURN", entity_ids=[a2], as_of=at, mode="point_in_time"
            ).frame

        before = online()
        assert "login_30d" in before.columns and "watch_hours_30d" not in before.columns
        assert "tier" not in before.columns
    # Another customer's new event type and a new attribute: a2's own rows did not change,
    # but its columns must (the whole tenant decides them).
    Crm().customer(
        "a1", kind="subscriber", created_at=datetime(2024, 1, 1, tzinfo=UTC), tier="gold"
    ).event("a1", "watch", datetime(2025, 2, 2, tzinfo=UTC), value=1.5).load(database, tenant)
    with database.tenant_session(tenant) as session:
        after = online()
        full = build_scoring_frame(session, prediction_type="CHURN", as_of=at)
    assert "watch_hours_30d" in after.columns and "tier" in after.columns
    row = int(np.flatnonzero(full.external_ids == "a2")[0])
    pd.testing.assert_frame_equal(
        after, full.frame.iloc[[row]].reset_index(drop=True), check_exact=True
    )
