"""Hand-built CRM data for exact checks, and simulated tenants for statistical ones."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from propensity.crm.service import ImportOptions, import_frame
from propensity.db import Database
from propensity.simulator import SimulatedData, SimulationConfig
from propensity.tenancy.service import create_tenant

# The snapshot time of the hand-built checks: a round instant with data on both sides.
T = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
SIM_END = dt.date(2025, 6, 1)
# Big enough for grouped means to be stable, small enough to import in ~2 s on SQLite.
SMALL_SIM = SimulationConfig(
    seed=7,
    end=SIM_END,
    history_days=400,
    n_accounts=250,
    n_subscribers=2500,
    n_leads=2500,
    n_deals=0,
)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def new_tenant(database: Database, slug: str) -> int:
    with database.system_session() as session:
        return create_tenant(session, slug=slug).id


@dataclass
class Crm:
    """Rows in the import formats, built up by a test and imported in one go."""

    customers: list[dict[str, Any]] = field(default_factory=list)
    leads: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    health: list[dict[str, Any]] = field(default_factory=list)

    def customer(self, customer_id: str, **columns: Any) -> Crm:
        self.customers.append({"customer_id": customer_id, **columns})
        return self

    def lead(self, lead_id: str, **columns: Any) -> Crm:
        self.leads.append({"lead_id": lead_id, **columns})
        return self

    def event(
        self, owner: str, type_: str, at: datetime, value: float | None = None, **props: Any
    ) -> Crm:
        subject = "lead_id" if owner.startswith("lead") else "customer_id"
        self.events.append(
            {
                "event_id": f"e{len(self.events) + 1}",
                subject: owner,
                "type": type_,
                "occurred_at": at,
                "value": value,
                **props,
            }
        )
        return self

    def snapshot(self, customer_id: str, on: dt.date, overall: float, **dims: float) -> Crm:
        self.health.append(
            {"customer_id": customer_id, "snapshot_date": on, "overall_score": overall, **dims}
        )
        return self

    def load(self, database: Database, tenant_id: int, *, label: str | None = None) -> None:
        with database.tenant_session(tenant_id) as session:
            if self.customers:
                options = ImportOptions(label=label) if label else None
                import_frame(
                    session, kind="customers", frame=pd.DataFrame(self.customers), options=options
                )
            if self.leads:
                import_frame(session, kind="leads", frame=pd.DataFrame(self.leads))
            if self.health:
                import_frame(session, kind="health", frame=pd.DataFrame(self.health))
            if self.events:
                frame = pd.DataFrame(self.events)
                for column in ("customer_id", "lead_id"):
                    if column not in frame:
                        frame[column] = None
                import_frame(session, kind="events", frame=frame)


def load_simulation(database: Database, tenant_id: int, data: SimulatedData) -> None:
    frames = data.frames()
    with database.tenant_session(tenant_id) as session:
        for name, kind in (
            ("accounts", "customers"),
            ("subscribers", "customers"),
            ("leads", "leads"),
            ("health", "health"),
            ("events", "events"),
        ):
            if len(frames[name]):
                import_frame(session, kind=kind, frame=frames[name])


SECOND = days(1 / 86_400)
HOUR = timedelta(hours=1)


def subscriber_scenario() -> Crm:
    crm = Crm()
    current_state = {
        "payment_failures": 3,
        "watch_time_hours": 1.5,
        "last_login_at": T + days(5),
        "tenure_months": 13,
    }
    # Churns 10 days after t; its payment failures start one second after t.
    crm.customer(
        "s_leak",
        kind="subscriber",
        plan="Basic",
        created_at=T - days(400),
        churned_at=T + days(10),
        region="north",
        last_seen_at=T + days(9),
        **current_state,
    )
    crm.customer(
        "s_before", kind="subscriber", plan="Basic", created_at=T - days(400), region="south"
    )
    crm.customer(
        "s_at", kind="subscriber", plan="Premium", created_at=T - days(300), churned_at=T + days(90)
    )
    crm.customer(
        "s_after",
        kind="subscriber",
        plan="Basic",
        created_at=T - days(300),
        churned_at=T + days(90) + SECOND,
    )
    crm.customer("s_gone", kind="subscriber", created_at=T - days(300), churned_at=T)
    crm.customer("s_new", kind="subscriber", created_at=T + days(1))
    crm.customer("s_flagged", kind="subscriber", created_at=T - days(300), churned=True)
    for n in range(3):
        crm.event("s_leak", "payment_failed", T + SECOND * (n + 1), 8.99)
        crm.event("s_leak", "login", T + days(2) + SECOND * n)
    crm.event("s_leak", "cancel_request", T + days(1))
    crm.event("s_leak", "cancel_request", T - days(200))
    crm.event("s_before", "payment_failed", T - SECOND, 8.99)
    crm.event("s_at", "payment_failed", T, 8.99)
    for who in ("s_leak", "s_before", "s_at", "s_after"):
        crm.event(who, "login", T - days(5))
        crm.event(who, "watch", T - days(3), 10.0)
    return crm


def account_scenario() -> Crm:
    crm = Crm().customer(
        "acc1",
        kind="account",
        account_type="CUSTOMER",
        plan="Growth",
        industry="retail",
        created_at=datetime(2023, 6, 20, 9, 0, tzinfo=UTC),
    )
    crm.customer("acc2", kind="account", account_type="CUSTOMER", created_at=T - days(30))
    for ago in (1, 10, 40, 100):
        crm.event("acc1", "login", T - days(ago))
    crm.event("acc1", "ticket_opened", T - days(10), ticket_id="T1")
    crm.event("acc1", "ticket_resolved", T - days(5), ticket_id="T1")
    crm.event("acc1", "ticket_opened", T - days(3), ticket_id="T2")
    crm.event("acc1", "ticket_opened", T - days(1), ticket_id="T2")  # the same ticket again
    crm.event("acc1", "ticket_opened", T - days(2), ticket_id="T3")
    crm.event("acc1", "ticket_resolved", T + days(1), ticket_id="T3")  # after t: open at t
    crm.event("acc1", "ticket_resolved", T - days(1), ticket_id="T9")  # never seen opening
    for ago in (80, 60, 30, 10):
        crm.event("acc1", "email_sent", T - days(ago))
    crm.event("acc1", "email_open", T - days(59))
    crm.event("acc1", "email_open", T - days(9))
    crm.event("acc1", "email_click", T - days(9))
    crm.event("acc1", "executive_meeting", T - days(45), channel="video")
    # Weekly health, dated at midnight, declining by 2 points a week towards t.
    for k in range(15):
        crm.snapshot(
            "acc1",
            (T - days(7 * k)).date(),
            50.0 + 2 * k,
            engagement=70.0,
            product_adoption=60.0 + k,
            support_satisfaction=40.0,
            executive_relationship=55.0,
        )
    return crm


def lead_scenario() -> Crm:
    crm = Crm()
    crm.lead(
        "lead_a",
        email="jane@acme.com",
        name="Jane",
        title="VP of Sales",
        company="Acme",
        phone="555-0100",
        source="referral",
        created_at=T - days(20),
        company_size=300,
        config="Inbound",
    )
    crm.lead("lead_b", email="bob@gmail.com", title="Head of Marketing", created_at=T - days(3))
    sends = [(14, 1), (7, 2), (2, 3)]
    for ago, step in sends:
        crm.event("lead_a", "email_sent", T - days(ago), sequence_step=step)
    crm.event("lead_a", "email_open", T - days(14) + 2 * HOUR)
    crm.event("lead_a", "email_open", T - days(7) + HOUR)
    crm.event("lead_a", "email_click", T - days(7) + 2 * HOUR)
    crm.event("lead_a", "email_reply", T - days(6))
    crm.event("lead_a", "page_view", T - days(15))
    crm.event("lead_a", "page_view", T - days(1))
    crm.event("lead_a", "form_submit", T - days(20) + timedelta(minutes=1))
    crm.event("lead_a", "meeting", T - days(3))
    crm.event("lead_a", "call", T - days(4))
    crm.event("lead_a", "email_open", T + HOUR)  # after t
    return crm
