"""Arguments, errors, sampling and the declared catalogue."""

from __future__ import annotations

import numpy as np
import pytest

from propensity.db import Database
from propensity.errors import InsufficientData, InvalidInput, NotFound
from propensity.features import (
    FeatureGroup,
    FeatureKind,
    build_scoring_frame,
    build_training_set,
    declared_features,
    lead_feature_groups,
)
from propensity.features.lead_profile import PROFILE_KEYS
from tests.features.helpers import T, account_scenario, days, subscriber_scenario


def test_bad_arguments_and_missing_data(database: Database, tenant: int) -> None:
    with database.tenant_session(tenant) as session:
        with pytest.raises(InvalidInput, match="Unknown prediction type"):
            build_training_set(session, prediction_type="LTV")
        with pytest.raises(InsufficientData, match="no customers"):
            build_training_set(session, prediction_type="churn")
        with pytest.raises(InsufficientData):
            build_training_set(session, prediction_type="CONVERSION")
        with pytest.raises(InvalidInput, match="accounts only"):
            build_training_set(session, prediction_type="HEALTH_TREND", kind="subscriber")
        with pytest.raises(InvalidInput, match="horizon_days"):
            build_training_set(session, prediction_type="CHURN", kind="account", horizon_days=0)
    crm = subscriber_scenario()
    crm.customers += account_scenario().customers
    crm.load(database, tenant)
    with database.tenant_session(tenant) as session:
        with pytest.raises(InvalidInput, match="kind='account' or kind='subscriber'"):
            build_training_set(session, prediction_type="CHURN")
        with pytest.raises(NotFound):
            build_scoring_frame(
                session, prediction_type="CHURN", kind="account", entity_ids=[10_000]
            )
        with pytest.raises(NotFound):
            lead_feature_groups(session, lead_id=10_000)
        with pytest.raises(InsufficientData):  # no leads at all
            build_training_set(session, prediction_type="TIME_TO_CLOSE")


def test_sampling_is_capped_and_reproducible(database: Database, tenant: int) -> None:
    crm = subscriber_scenario()
    for i in range(30):
        crm.customer(f"extra{i}", kind="subscriber", created_at=T - days(300))
        crm.event(f"extra{i}", "login", T - days(250 - i))
    crm.load(database, tenant)
    with database.tenant_session(tenant) as session:

        def build(max_rows: int | None, seed: int = 0):  # type: ignore[no-untyped-def]
            return build_training_set(
                session, prediction_type="CHURN", kind="subscriber", max_rows=max_rows, seed=seed
            )

        full, capped, again, other = build(None), build(50), build(50), build(50, seed=1)
    assert len(full.frame) > 50
    assert len(capped.frame) == 50 == capped.summary.rows
    assert capped.summary.candidate_rows == len(full.frame)
    assert np.array_equal(capped.entity_ids, again.entity_ids)
    assert not np.array_equal(capped.entity_ids, other.entity_ids)
    # Sampled rows keep their values and time order.
    assert capped.snapshot_times.is_monotonic_increasing


def test_declared_features() -> None:
    for ptype, kind in (
        ("CHURN", "account"),
        ("CHURN", "subscriber"),
        ("CONVERSION", None),
        ("TIME_TO_CLOSE", None),
        ("HEALTH_TREND", None),
    ):
        definitions = declared_features(ptype, kind=kind)
        names = [d.name for d in definitions]
        assert len(names) == len(set(names))
        for d in definitions:
            assert d.group in set(FeatureGroup) and d.kind in set(FeatureKind)
            assert d.kind is not FeatureKind.DATETIME
            assert d.description and d.computation
            spec = d.to_dict()
            assert spec["group"] == d.group.value and spec["kind"] == d.kind.value
        # Point-in-time declarations never include current-state columns.
        assert not {"health_score", "watch_time_hours", "payment_failures", "deal_value"} & set(
            names
        )
    leads = declared_features("CONVERSION")
    api = {d.api_name: d.group.value for d in leads if d.api_name}
    documented = {k: g for g, keys in PROFILE_KEYS.items() for k in keys if k != "emailDomain"}
    assert api == documented
    static = declared_features("CHURN", kind="subscriber", point_in_time=False)
    assert "watch_time_hours" in {d.name for d in static}
