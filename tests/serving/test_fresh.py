"""Fresh answers asked for while every scoring slot is busy are scored together: one run at the
batch's clock, each request answered with its own entity's stored row as an object of its own
session, exactly one active prediction per entity, and no other tenant's request in the batch.
On the real database, with real threads."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import Database
from propensity.models import Prediction, PredictionStatus
from propensity.serving import Served, serve
from propensity.serving.gate import scoring_lane
from propensity.settings import Settings
from propensity.vocabulary import PredictionType
from tests.serving.lanes import run_while_held
from tests.surfaces.customer_success.helpers import account_ids, trained_accounts


def test_waiting_requests_are_scored_in_one_run_and_each_gets_its_own_row(
    database: Database, settings: Settings
) -> None:
    settings = settings.model_copy(update={"scoring_concurrency": 1})
    user = trained_accounts(database, settings, slug="together")
    other = trained_accounts(database, settings, slug="together-other")
    accounts = account_ids(database, user.tenant_id)[:6]
    stranger = account_ids(database, other.tenant_id)[0]
    lane = scoring_lane(1)
    answers: dict[int, tuple[Served, bool, int]] = {}
    failures: list[BaseException] = []

    def ask(tenant_id: int, account: int) -> None:
        try:
            with database.request_session(tenant_id) as session:
                served = serve(
                    session,
                    prediction_type=PredictionType.CHURN,
                    population="account",
                    entity_id=account,
                    now=datetime.now(UTC),
                    settings=settings,
                    force=True,
                )
                own = sa.inspect(served.prediction).session is session
                # Read in the request's own session, as a surface would.
                answers[account] = (served, own, int(served.prediction.customer_id or 0))
        except BaseException as error:  # reported below, not lost in the thread
            failures.append(error)

    asks = [(user.tenant_id, account) for account in accounts] + [(other.tenant_id, stranger)]
    run_while_held(lane, [partial(ask, *ask_) for ask_ in asks], queued=len(asks), within=30)

    assert failures == []
    assert sorted(answers) == sorted([*accounts, stranger])
    for account, (served, own, customer) in answers.items():
        assert own and customer == account and served.cached is False
    ours = {answers[a][0].prediction.predicted_at for a in accounts}
    assert len(ours) == 1  # one run, at the clock of the newest request
    assert answers[stranger][0].prediction.predicted_at not in ours

    with database.tenant_session(user.tenant_id) as session:
        active = _active(session, accounts)
    assert active == {a: answers[a][0].prediction.id for a in accounts}


def _active(session: Session, accounts: list[int]) -> dict[int, int]:
    rows = session.execute(
        sa.select(Prediction.customer_id, Prediction.id).where(
            Prediction.customer_id.in_(accounts),
            Prediction.prediction_type == PredictionType.CHURN.value,
            Prediction.status == PredictionStatus.ACTIVE.value,
        )
    ).all()
    assert len(rows) == len(accounts)  # one active answer each
    return {int(customer): int(i) for customer, i in rows}
