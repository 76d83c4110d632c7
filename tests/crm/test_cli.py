"""`propensity import ...` end to end, against the test database, through Typer's runner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner

from propensity import cli_commands
from propensity.db import Database, dispose_all
from propensity.models import Customer, Event
from propensity.settings import Settings, reset_settings_cache
from tests.conftest import TEST_SECRET
from tests.crm.helpers import count, new_tenant, snapshot, write_rows

# The shared data folder next to the checkout (/work/shared/data for /work/main).
TELCO = Path(__file__).resolve().parents[3] / "shared" / "data" / "telco_churn.csv"

runner = CliRunner()


@pytest.fixture
def env(settings: Settings) -> Iterator[dict[str, str]]:
    """The CLI reads settings from the environment; point it at the test database."""
    variables = {
        "PROPENSITY_DATABASE_URL": settings.resolved_database_url,
        "PROPENSITY_HOME": str(settings.home),
        "PROPENSITY_SECRET_KEY": TEST_SECRET,
        "PROPENSITY_ENVIRONMENT": "test",
    }
    reset_settings_cache()
    dispose_all()
    yield variables
    reset_settings_cache()
    dispose_all()


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    cli_commands.register(app)
    return app


@pytest.fixture
def tenant(database: Database) -> int:
    return new_tenant(database, "telco")


@pytest.mark.skipif(not TELCO.exists(), reason=f"{TELCO} not found")
def test_the_telco_file_imports_unchanged(
    app: typer.Typer, env: dict[str, str], database: Database, tenant: int
) -> None:
    args = ["import", "customers", str(TELCO), "--tenant", "telco", "--label", "churn"]
    result = runner.invoke(app, [*args, "--positive", "Yes"], env=env)
    assert result.exit_code == 0, result.output
    assert "7,043 rows, 7,043 inserted, 0 updated" in result.output
    with database.tenant_session(tenant) as session:
        rows = session.execute(
            sa.select(Customer.churned, Customer.kind, Customer.tenure_months, Customer.attributes)
        ).all()
    assert len(rows) == 7043
    assert sum(1 for churned, *_ in rows if churned) == 1869
    assert {kind for _, kind, _, _ in rows} == {"subscriber"}
    assert {tenure_months for _, _, tenure_months, _ in rows} == {None}
    attributes = [attrs for *_, attrs in rows]
    assert all("churn" not in a for a in attributes)
    # Typed values that a model can use: numbers stay numbers.
    assert all(type(a["tenure"]) is int and type(a["senior_citizen"]) is int for a in attributes)
    assert all(type(a["monthly_charges"]) is float for a in attributes)
    assert sum("total_charges" not in a for a in attributes) == 11
    assert {a["contract"] for a in attributes} == {"Month-to-month", "One year", "Two year"}

    again = runner.invoke(app, [*args, "--positive", "Yes"], env=env)
    assert again.exit_code == 0, again.output
    assert "0 inserted, 7,043 updated" in again.output
    assert count(database, tenant, Customer) == 7043


def test_a_bad_file_exits_non_zero_lists_the_rows_and_imports_nothing(
    app: typer.Typer, env: dict[str, str], database: Database, tenant: int, tmp_path: Path
) -> None:
    write_rows(tmp_path / "ok.csv", [{"customer_id": "keep", "arr": 1}])
    assert (
        runner.invoke(
            app, ["import", "customers", str(tmp_path / "ok.csv"), "-t", "telco"], env=env
        ).exit_code
        == 0
    )
    before = snapshot(database)
    rows = [{"customer_id": f"c{i}", "arr": i, "plan": "basic"} for i in range(1, 100)]
    rows[1]["arr"] = "lots"
    rows[4]["customer_id"] = ""
    path = write_rows(tmp_path / "bad.csv", rows)
    result = runner.invoke(app, ["import", "customers", str(path), "--tenant", "telco"], env=env)
    assert result.exit_code == 1
    assert "2 problems in 2 row(s); nothing was imported" in result.output
    assert "row 2, column arr: not a number: 'lots'" in result.output
    assert "row 5, column customer_id: required value is missing" in result.output
    assert snapshot(database) == before


def test_the_printed_error_list_is_capped(
    app: typer.Typer, env: dict[str, str], tenant: int, tmp_path: Path
) -> None:
    path = write_rows(
        tmp_path / "bad.csv", [{"customer_id": f"c{i}", "arr": "x"} for i in range(80)]
    )
    result = runner.invoke(app, ["import", "customers", str(path), "-t", "telco"], env=env)
    assert result.exit_code == 1
    assert "row 50, column arr" in result.output
    assert "row 51, column arr" not in result.output
    assert "... and 30 more" in result.output


def test_events_of_another_tenants_customers_are_refused(
    app: typer.Typer, env: dict[str, str], database: Database, tenant: int, tmp_path: Path
) -> None:
    new_tenant(database, "other")
    customers = write_rows(tmp_path / "c.jsonl", [{"customer_id": "c1"}])
    assert (
        runner.invoke(
            app, ["import", "customers", str(customers), "-t", "telco"], env=env
        ).exit_code
        == 0
    )
    events = write_rows(
        tmp_path / "e.jsonl",
        [{"event_id": "e1", "customer_id": "c1", "type": "login", "occurred_at": "2024-01-01"}],
    )
    refused = runner.invoke(app, ["import", "events", str(events), "-t", "other"], env=env)
    assert refused.exit_code == 1
    assert "row 1, column customer_id: no customer with customer_id 'c1' in this tenant" in (
        refused.output
    )
    accepted = runner.invoke(app, ["import", "events", str(events), "-t", "telco"], env=env)
    assert accepted.exit_code == 0, accepted.output
    assert count(database, tenant, Event) == 1


def test_mapping_options(
    app: typer.Typer, env: dict[str, str], database: Database, tenant: int, tmp_path: Path
) -> None:
    path = write_rows(
        tmp_path / "crm.parquet",
        [{"Account": "a1", "Revenue": 10.5, "Segment": "SMB", "Internal": "x", "Lost": "Y"}],
    )
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"Account": "customer_id", "Internal": None}))
    result = runner.invoke(
        app,
        [
            "import", "customers", str(path), "-t", "telco", "--mapping", str(mapping),
            "--map", "Revenue=arr", "--label", "Lost", "--positive", "y", "--kind", "account",
        ],
        env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with database.tenant_session(tenant) as session:
        customer = session.scalars(sa.select(Customer)).one()
    assert (customer.external_id, customer.arr, customer.kind) == ("a1", 10.5, "account")
    assert customer.churned is True
    assert customer.attributes == {"Segment": "SMB"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["customers", "{dir}/x.csv", "-t", "nobody"], "Tenant 'nobody' not found"),
        (["customers", "{dir}/x.xlsx", "-t", "telco"], "must end in one of"),
        (["customers", "{dir}/missing.csv", "-t", "telco"], "No such file"),
        (["customers", "{dir}/x.csv", "-t", "telco", "--map", "nonsense"], "SOURCE=TARGET"),
    ],
)
def test_usage_errors(
    app: typer.Typer,
    env: dict[str, str],
    tenant: int,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    write_rows(tmp_path / "x.csv", [{"customer_id": "a"}])
    (tmp_path / "x.xlsx").write_bytes(b"")
    argv = ["import", *[a.format(dir=tmp_path) for a in args]]
    result = runner.invoke(app, argv, env=env)
    assert result.exit_code != 0
    assert message in result.output
