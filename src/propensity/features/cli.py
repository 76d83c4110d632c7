"""`propensity features backfill --tenant T`: rebuild the online feature states from history."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from propensity.db import get_database
from propensity.errors import PropensityError
from propensity.features.refresh import SUBJECTS, refresh_states
from propensity.migrate import upgrade
from propensity.settings import get_settings
from propensity.tenancy.service import get_tenant

features_app = typer.Typer(help="Online feature state.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


@features_app.command("backfill")
def backfill(
    tenant: Annotated[str, typer.Option("--tenant", "-t", help="Tenant name")],
) -> None:
    """Rebuild every customer's and lead's online feature state from the stored history (after
    an upgrade, or to repair). Imports keep the states current by themselves."""
    try:
        database = get_database()
        upgrade(get_settings().resolved_database_url)
        with database.system_session() as session:
            tenant_id = get_tenant(session, slug_or_id=tenant).id
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, TimeElapsedColumn(), console=err_console) as progress:
            tasks: dict[str, TaskID] = {}

            def report(what: str, done: int, total: int) -> None:
                if what not in tasks:
                    tasks[what] = progress.add_task(f"feature states of {what}", total=total)
                progress.update(tasks[what], completed=done)

            written = 0
            with database.tenant_session(tenant_id) as session:
                for subject in SUBJECTS:
                    written += refresh_states(session, subject=subject, progress=report)
    except PropensityError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from exc
    console.print(f"{written:,} feature states rebuilt")


def register(app: typer.Typer) -> None:
    app.add_typer(features_app, name="features")
