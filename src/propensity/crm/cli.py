"""`propensity import customers|leads|events|health|deals FILE --tenant T`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from propensity.crm.contracts import CUSTOMER_KINDS, ImportKind
from propensity.crm.errors import ImportRejected
from propensity.crm.formats import SourceTable, read_path
from propensity.crm.service import ImportResult, import_table
from propensity.crm.validation import ImportOptions
from propensity.db import Database, get_database
from propensity.errors import InvalidInput, PropensityError
from propensity.migrate import upgrade
from propensity.settings import get_settings
from propensity.tenancy.service import get_tenant

# Bad rows printed before "... and N more"; the full list is one fix-and-rerun away.
MAX_PRINTED_ERRORS = 50

console = Console()
err_console = Console(stderr=True)

import_app = typer.Typer(
    help=(
        "Import CRM data from CSV, JSON Lines (.jsonl/.ndjson) or Parquet files. "
        "The whole file is checked first: if any row is bad nothing is imported. "
        "Rows are numbered from 1 after the header (CSV, Parquet) or by line (JSON Lines). "
        "See docs/importing.md."
    ),
    no_args_is_help=True,
)

FileArg = Annotated[
    Path, typer.Argument(help="A .csv, .jsonl/.ndjson or .parquet file", show_default=False)
]
TenantOpt = Annotated[str, typer.Option("--tenant", "-t", help="Tenant name or id")]
MapOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        help="Rename a column: SOURCE=TARGET (repeatable); SOURCE= drops the column",
    ),
]
MappingOpt = Annotated[
    Path | None,
    typer.Option("--mapping", help='JSON file {"source": "target", ...}; null drops a column'),
]
LabelOpt = Annotated[
    str | None,
    typer.Option(
        "--label", help="Column holding the outcome (customers: churned, leads: converted)"
    ),
]
PositiveOpt = Annotated[
    str | None,
    typer.Option(
        "--positive",
        help="Label value meaning yes (any case); without it: true/false, yes/no, 1/0",
    ),
]


def _parse_mapping(pairs: list[str] | None, mapping_file: Path | None) -> dict[str, str | None]:
    mapping: dict[str, str | None] = {}
    if mapping_file is not None:
        try:
            loaded = json.loads(mapping_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"cannot read the mapping file {mapping_file}: {exc}") from exc
        if not isinstance(loaded, dict) or not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in loaded.items()
        ):
            raise InvalidInput(
                f"{mapping_file} must hold one JSON object of column names, "
                'e.g. {"Customer ID": "customer_id", "Notes": null}'
            )
        mapping.update(loaded)
    for pair in pairs or []:
        source, sep, target = pair.partition("=")
        if not sep or not source.strip():
            raise InvalidInput(f"--map needs SOURCE=TARGET, got {pair!r}")
        mapping[source.strip()] = target.strip() or None
    return mapping


def _run(kind: ImportKind, file: Path, tenant: str, options: ImportOptions) -> None:
    try:
        database = get_database()  # creates the SQLite file's folder on first use
        upgrade(get_settings().resolved_database_url)
        with database.system_session() as session:
            tenant_id = get_tenant(session, slug_or_id=tenant).id
        with err_console.status(f"reading {file}"):
            table = read_path(file)
        result = _import(database, tenant_id, kind, table, options)
    except ImportRejected as exc:
        _print_rejection(exc)
        raise typer.Exit(1) from exc
    except PropensityError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from exc
    duplicates = f", {result.duplicates:,} repeated rows stored once" if result.duplicates else ""
    console.print(
        f"{result.kind}: {result.total:,} rows, [green]{result.inserted:,} inserted[/green], "
        f"{result.updated:,} updated{duplicates}"
    )


def _import(
    database: Database,
    tenant_id: int,
    kind: ImportKind,
    table: SourceTable,
    options: ImportOptions,
) -> ImportResult:
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=False) as progress:
        task = progress.add_task(f"checking {kind}", total=len(table.frame))
        writing = False

        def advance(rows: int) -> None:
            nonlocal writing
            if not writing:
                progress.update(task, description=f"writing {kind}")
                writing = True
            progress.advance(task, rows)

        with database.tenant_session(tenant_id) as session:
            return import_table(session, kind=kind, table=table, options=options, progress=advance)


def _print_rejection(exc: ImportRejected) -> None:
    err_console.print(f"[red]error:[/red] {exc.message}")
    for error in exc.errors[:MAX_PRINTED_ERRORS]:
        err_console.print(f"  {error}", markup=False, highlight=False, soft_wrap=True)
    rest = exc.total_errors - min(len(exc.errors), MAX_PRINTED_ERRORS)
    if rest > 0:
        err_console.print(f"  ... and {rest:,} more")


@import_app.command("customers")
def import_customers(
    file: FileArg,
    tenant: TenantOpt,
    map_: MapOpt = None,
    mapping: MappingOpt = None,
    label: LabelOpt = None,
    positive: PositiveOpt = None,
    kind: Annotated[
        str,
        typer.Option(
            "--kind", help="Kind of new customers whose row has no kind: account or subscriber"
        ),
    ] = "subscriber",
) -> None:
    """Import customers (B2B accounts or B2C subscribers), keyed by customer_id."""
    if kind not in CUSTOMER_KINDS:
        raise typer.BadParameter(f"use one of {', '.join(CUSTOMER_KINDS)}", param_hint="--kind")
    options = _options(map_, mapping, label=label, positive=positive, customer_kind=kind)
    _run(ImportKind.CUSTOMERS, file, tenant, options)


@import_app.command("leads")
def import_leads(
    file: FileArg,
    tenant: TenantOpt,
    map_: MapOpt = None,
    mapping: MappingOpt = None,
    label: LabelOpt = None,
    positive: PositiveOpt = None,
) -> None:
    """Import leads, keyed by lead_id; `config` names a lead scoring config."""
    _run(ImportKind.LEADS, file, tenant, _options(map_, mapping, label=label, positive=positive))


@import_app.command("events")
def import_events(
    file: FileArg, tenant: TenantOpt, map_: MapOpt = None, mapping: MappingOpt = None
) -> None:
    """Import events of existing customers or leads, keyed by event_id or content."""
    _run(ImportKind.EVENTS, file, tenant, _options(map_, mapping))


@import_app.command("health")
def import_health(
    file: FileArg, tenant: TenantOpt, map_: MapOpt = None, mapping: MappingOpt = None
) -> None:
    """Import health score snapshots, keyed by (customer_id, snapshot_date)."""
    _run(ImportKind.HEALTH, file, tenant, _options(map_, mapping))


@import_app.command("deals")
def import_deals(
    file: FileArg, tenant: TenantOpt, map_: MapOpt = None, mapping: MappingOpt = None
) -> None:
    """Import closed property deals (market data), keyed by deal_id."""
    _run(ImportKind.DEALS, file, tenant, _options(map_, mapping))


def _options(
    pairs: list[str] | None,
    mapping_file: Path | None,
    *,
    label: str | None = None,
    positive: str | None = None,
    customer_kind: str = "subscriber",
) -> ImportOptions:
    try:
        mapping = _parse_mapping(pairs, mapping_file)
    except InvalidInput as exc:
        raise typer.BadParameter(exc.message) from exc
    return ImportOptions(
        mapping=mapping, label=label, positive=positive, customer_kind=customer_kind
    )


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
