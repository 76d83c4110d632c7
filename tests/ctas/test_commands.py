"""The committed CTA changes the dashboard makes (ctas.commands)."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from propensity.crm.service import import_frame
from propensity.ctas.commands import save_cta_update, save_manual_cta
from propensity.db import Database, utcnow
from propensity.errors import Conflict, NotFound
from propensity.models import Cta, Customer
from propensity.settings import Settings
from tests.factories import make_tenant_user


def test_changes_are_committed_and_bound_to_their_account(
    database: Database, settings: Settings
) -> None:
    user = make_tenant_user(database, settings)
    frame = pd.DataFrame([{"customer_id": f"a{i}", "kind": "account"} for i in (1, 2)])
    with database.tenant_session(user.tenant_id) as session:
        import_frame(session, kind="customers", frame=frame)
        first, second = session.scalars(sa.select(Customer.id).order_by(Customer.id)).all()

    def change(**options: object) -> Cta:
        # Each in a request session, which rolls back whatever was not committed.
        with database.request_session(user.tenant_id) as session:
            return save_cta_update(session, now=utcnow(), **options)  # type: ignore[arg-type]

    with database.request_session(user.tenant_id) as session:
        cta_id = save_manual_cta(
            session,
            account_id=first,
            type="RISK",
            priority="HIGH",
            title="Call",
            user_id=user.user_id,
            now=utcnow(),
        ).id
    with pytest.raises(NotFound):
        change(cta_id=cta_id, account_id=second, status="COMPLETED")
    change(cta_id=cta_id, account_id=first, status="IN_PROGRESS")
    with pytest.raises(Conflict):
        change(cta_id=cta_id, status="OPEN")
    with database.tenant_session(user.tenant_id) as session:
        stored = session.get(Cta, cta_id)
        assert stored is not None and stored.status == "IN_PROGRESS"
