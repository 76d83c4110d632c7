"""CTA changes as units of work of their own, committed, for callers that never touch the
transaction (the dashboard's pages). Each calls the service function the REST API calls
(ctas.service), so the lifecycle rules are the same."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from propensity.ctas.service import create_manual_cta, get_cta, update_cta
from propensity.db import committing
from propensity.errors import NotFound
from propensity.models import Cta

# create_manual_cta, committed (the dashboard's "new CTA").
save_manual_cta = committing(create_manual_cta)
_update_cta = committing(update_cta)


def save_cta_update(
    session: Session,
    *,
    cta_id: int,
    account_id: int | None = None,
    status: str | None = None,
    priority: str | None = None,
    due_date: datetime | None = None,
    now: datetime,
) -> Cta:
    """update_cta as its own unit of work, committed: for adapters that never commit (the
    dashboard). With `account_id`, a CTA of another account is not found (a page addresses a
    CTA through its account)."""
    if account_id is not None and get_cta(session, cta_id=cta_id).customer_id != account_id:
        raise NotFound(f"CTA {cta_id} not found", code="CTA_NOT_FOUND")
    return _update_cta(
        session, cta_id=cta_id, status=status, priority=priority, due_date=due_date, now=now
    )
