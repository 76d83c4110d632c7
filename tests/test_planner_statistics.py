"""Query plans that do not depend on luck: superseding one customer's prediction finds that
customer's ACTIVE row by the partial index (not by walking every active prediction of the
tenant, nor every earlier prediction of the customer) with or without SQLite's statistics,
and imports leave statistics behind for everything else."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from propensity.db import Database
from propensity.models import Customer
from propensity.predictions.service import score_and_record
from propensity.settings import Settings
from propensity.training.service import train_prediction_type
from tests.factories import make_simulated_tenant
from tests.statements import captured_statements


def _sqlite_only(database: Database) -> None:
    if database.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL keeps its own statistics and plans")


def test_an_import_leaves_planner_statistics(database: Database, settings: Settings) -> None:
    _sqlite_only(database)
    make_simulated_tenant(database, settings, accounts=20)
    with database.engine.connect() as conn:
        tables = {row[0] for row in conn.exec_driver_sql("SELECT DISTINCT tbl FROM sqlite_stat1")}
    assert {"customers", "events"} <= tables


@pytest.mark.parametrize("statistics", [False, True], ids=["no-statistics", "statistics"])
def test_superseding_one_prediction_uses_the_customer_index(
    database: Database, settings: Settings, statistics: bool
) -> None:
    _sqlite_only(database)
    user = make_simulated_tenant(database, settings, accounts=250)
    train_prediction_type(
        database, tenant_id=user.tenant_id, prediction_type="CHURN", kind="account"
    )
    with database.tenant_session(user.tenant_id) as session:
        score_and_record(session, prediction_type="CHURN", kind="account")
        account = session.scalars(sa.select(Customer.id).where(Customer.kind == "account")).first()
    with database.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE" if statistics else "DROP TABLE IF EXISTS sqlite_stat1")
    with (
        captured_statements(database) as statements,
        database.tenant_session(user.tenant_id) as session,
    ):
        score_and_record(
            session, prediction_type="CHURN", kind="account", entity_ids=[int(account or 0)]
        )
        # And every live account at once: an IN list of many ids, for which SQLite's planner
        # without statistics would take the (tenant, type, status) index.
        score_and_record(session, prediction_type="CHURN", kind="account")
    seen = [
        (statement, params)
        for statement, params in statements
        if statement.lstrip().upper().startswith("UPDATE PREDICTIONS")
    ]
    assert len(seen) == 2, "scoring superseded the older predictions with an UPDATE each time"
    assert len(seen[1][1]) > 100  # the ids of the live portfolio, and tenant and type
    for statement, params in seen:
        with database.engine.connect() as conn:
            plan = " ".join(
                str(row[-1])
                for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            )
        # Each id probed, not the index read as a range of every active prediction.
        assert "ix_predictions_active_customer" in plan and "customer_id=?" in plan, plan
