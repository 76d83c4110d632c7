"""TIME_TO_CLOSE outcomes: closed leads are observed at their close, and the two kinds of
censored lead are told apart, a lead closed lost (it will not close: not at risk) and a lead
still open at the end of the data (it may close later)."""

from __future__ import annotations

import numpy as np
import pytest

from propensity.db import Database
from propensity.features import build_training_set
from tests.features.helpers import Crm, T, days


def test_lost_leads_are_told_apart_from_open_ones(database: Database, tenant: int) -> None:
    crm = Crm()
    outcomes = {
        "won": {"converted_at": T + days(10)},
        "lost": {"lost_at": T + days(5)},
        "open": {},
        "lost_after_the_end": {"lost_at": T + days(120)},
        "won_after_the_end": {"converted_at": T + days(100)},
        "lost_before_t": {"lost_at": T - days(1)},
    }
    for name, columns in outcomes.items():
        crm.lead(f"lead_{name}", email=f"{name}@acme.com", created_at=T - days(100), **columns)
        crm.event(f"lead_{name}", "email_open", T - days(99))
    crm.load(database, tenant)
    with database.tenant_session(tenant) as session:
        training = build_training_set(
            session, prediction_type="TIME_TO_CLOSE", data_end=T + days(90), max_snapshots=1
        )
    assert training.durations_days is not None and training.observed is not None
    assert training.lost is not None
    assert set(training.snapshot_times) == {T}
    rows = {
        str(lead).removeprefix("lead_"): (float(d), bool(o), bool(lost))
        for lead, d, o, lost in zip(
            training.external_ids,
            training.durations_days,
            training.observed,
            training.lost,
            strict=True,
        )
    }
    assert rows == {
        "won": (pytest.approx(10.0), True, False),
        "lost": (pytest.approx(5.0), False, True),  # censored at the loss, and never closing
        "open": (pytest.approx(90.0), False, False),  # censored at the end, may still close
        # What happens after the end of the data is not known yet: open at the end.
        "lost_after_the_end": (pytest.approx(90.0), False, False),
        "won_after_the_end": (pytest.approx(90.0), False, False),
    }
    assert not np.any(training.lost & training.observed)
