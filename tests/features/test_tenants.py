"""Building for one tenant never reads another tenant's rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from propensity.db import Database
from propensity.features import build_scoring_frame, build_training_set, lead_feature_groups
from propensity.features.loading import load_leads
from propensity.models import Customer, Lead, LeadScoringConfig
from tests.features.helpers import (
    SECOND,
    Crm,
    T,
    account_scenario,
    days,
    lead_scenario,
    new_tenant,
    subscriber_scenario,
)


def scenario() -> Crm:
    crm = subscriber_scenario()
    account = account_scenario()
    leads = lead_scenario()
    crm.customers += account.customers
    crm.events += [{**e, "event_id": f"a{i}"} for i, e in enumerate(account.events)]
    crm.health += account.health
    crm.leads += leads.leads
    crm.events += [{**e, "event_id": f"l{i}"} for i, e in enumerate(leads.events)]
    return crm


def loud(crm: Crm) -> Crm:
    """The same external ids with very different data."""
    for customer in crm.customers:
        customer["plan"] = "Enterprise"
        for n in range(5):
            crm.event(customer["customer_id"], "payment_failed", T - days(n + 1), 99.0)
            crm.event(customer["customer_id"], "login", T - days(n + 1) - SECOND)
            crm.event(customer["customer_id"], "ticket_opened", T - days(n + 1), ticket_id=f"X{n}")
    for lead in crm.leads:
        crm.event(lead["lead_id"], "email_click", T - days(1))
    crm.health = [{**h, "overall_score": 5.0} for h in crm.health]
    crm.customer("b_only", kind="subscriber", created_at=T - days(100), churned_at=T + days(3))
    return crm


def builds(database: Database, tenant: int) -> dict[str, object]:
    out: dict[str, object] = {}
    with database.tenant_session(tenant) as session:
        for ptype, kind in (("CHURN", "subscriber"), ("CHURN", "account"), ("CONVERSION", None)):
            training = build_training_set(
                session, prediction_type=ptype, kind=kind, data_end=T + days(90), max_snapshots=1
            )
            scoring = build_scoring_frame(session, prediction_type=ptype, kind=kind, as_of=T)
            out[f"{ptype}/{kind}"] = (training, scoring)
        lead_id = session.scalar(sa.select(Lead.id).where(Lead.external_id == "lead_a"))
        assert lead_id is not None
        out["profile"] = lead_feature_groups(session, lead_id=lead_id, as_of=T)
        out["customer_ids"] = set(session.scalars(sa.select(Customer.id)))
        out["lead_ids"] = set(session.scalars(sa.select(Lead.id)))
    return out


def test_another_tenants_data_changes_nothing(database: Database) -> None:
    a, b = new_tenant(database, "tenant-a"), new_tenant(database, "tenant-b")
    scenario().load(database, a)
    alone = builds(database, a)
    loud(scenario()).load(database, b)
    together = builds(database, a)
    other = builds(database, b)
    assert together["profile"] == alone["profile"]
    for key in ("CHURN/subscriber", "CHURN/account", "CONVERSION/None"):
        (train_alone, score_alone), (train, score) = alone[key], together[key]  # type: ignore[misc]
        pd.testing.assert_frame_equal(train.frame, train_alone.frame)
        assert np.array_equal(train.labels, train_alone.labels)
        pd.testing.assert_frame_equal(score.frame, score_alone.frame)
        ids = together["lead_ids"] if key.startswith("CONVERSION") else together["customer_ids"]
        assert set(train.entity_ids.tolist()) <= ids  # type: ignore[operator]
        assert set(score.entity_ids.tolist()) <= ids  # type: ignore[operator]
        b_train, _ = other[key]  # type: ignore[misc]
        assert not set(b_train.entity_ids.tolist()) & set(train.entity_ids.tolist())
    b_subscribers, _ = other["CHURN/subscriber"]  # type: ignore[misc]
    assert "b_only" in set(b_subscribers.external_ids)
    loud_rows = b_subscribers.external_ids != "b_only"
    assert (b_subscribers.frame["payment_failed_7d"][loud_rows] >= 5).all()


def test_a_leads_scoring_configuration_name_is_its_own_tenants(database: Database) -> None:
    """The configuration's name is read with the lead (one joined statement): a lead pointing
    at another tenant's configuration, which the service never writes, still shows no name."""
    a, b = new_tenant(database, "tenant-a"), new_tenant(database, "tenant-b")
    crm = lead_scenario()
    crm.lead("lead_without_config", created_at=T - days(5))
    crm.load(database, a)
    with database.tenant_session(b) as session:
        theirs = LeadScoringConfig(name="theirs")
        session.add(theirs)
        session.flush()
        their_id = theirs.id
    with database.tenant_session(a) as session:
        ours = LeadScoringConfig(name="inbound")
        session.add(ours)
        session.flush()
        leads = list(session.scalars(sa.select(Lead).order_by(Lead.id)))
        assert len(leads) >= 3
        leads[0].config_id = ours.id
        leads[1].config_id = their_id
        session.flush()
        loaded = load_leads(session)
        few = load_leads(session, ids=np.asarray([leads[0].id, leads[1].id], dtype=np.int64))
    names = dict(zip(loaded.ids.tolist(), loaded.columns["config"].tolist(), strict=True))
    assert names[leads[0].id] == "inbound"
    assert names[leads[1].id] is None
    assert names[leads[2].id] is None
    assert few.columns["config"].tolist() == ["inbound", None]
