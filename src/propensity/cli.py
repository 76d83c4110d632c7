"""The `propensity` command."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from propensity.db import get_database
from propensity.errors import PropensityError
from propensity.migrate import migrate_database
from propensity.models import Tenant
from propensity.settings import get_settings
from propensity.tenancy.passwords import generate_password
from propensity.tenancy.service import (
    create_api_key,
    create_tenant,
    create_user,
    get_tenant,
    parse_role,
)

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    help="Propensity: calibrated, explained predictions from your CRM data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
tenant_app = typer.Typer(help="Tenants.", no_args_is_help=True)
user_app = typer.Typer(help="Users.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for machine clients.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(tenant_app, name="tenant")
app.add_typer(user_app, name="user")
app.add_typer(apikey_app, name="apikey")

TenantOpt = Annotated[str, typer.Option("--tenant", "-t", help="Tenant name")]


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to the configured database."""
    migrate_database()
    console.print("database is up to date")


@tenant_app.command("create")
def tenant_create(name: str, display_name: Annotated[str | None, typer.Option()] = None) -> None:
    """Create a tenant."""
    migrate_database()
    try:
        with get_database().system_session() as session:
            tenant = create_tenant(session, slug=name, name=display_name)
            console.print(f"created tenant [bold]{tenant.slug}[/bold] (id {tenant.id})")
    except PropensityError as exc:
        raise fail(exc.message) from exc


@tenant_app.command("list")
def tenant_list() -> None:
    """List tenants."""
    import sqlalchemy as sa

    migrate_database()
    with get_database().system_session() as session:
        for tenant in session.scalars(sa.select(Tenant).order_by(Tenant.id)):
            console.print(f"{tenant.id}\t{tenant.slug}\t{tenant.name}")


@user_app.command("create")
def user_create(
    tenant: TenantOpt,
    email: Annotated[str, typer.Option(help="Login email")],
    role: Annotated[str, typer.Option(help="viewer, analyst or admin")] = "viewer",
    name: Annotated[str, typer.Option(help="Display name")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Create a user; without --password-stdin a password is generated and printed once."""
    migrate_database()
    generated = not password_stdin
    password = generate_password() if generated else sys.stdin.readline().rstrip("\n")
    try:
        with get_database().system_session() as session:
            owner = get_tenant(session, slug_or_id=tenant)
            user = create_user(
                session,
                tenant=owner,
                email=email,
                password=password,
                role=parse_role(role),
                name=name,
            )
            console.print(f"created {user.role} [bold]{user.email}[/bold] in tenant {owner.slug}")
    except PropensityError as exc:
        raise fail(exc.message) from exc
    if generated:
        console.print(f"password (shown once): [bold]{password}[/bold]")


@apikey_app.command("create")
def apikey_create(
    tenant: TenantOpt,
    name: Annotated[str, typer.Option(help="What the key is for")],
    role: Annotated[str, typer.Option(help="viewer, analyst or admin")] = "analyst",
    expires_in_days: Annotated[int, typer.Option(help="Days the key works")] = 365,
) -> None:
    """Create an API key; the key is printed once and stored only as a hash."""
    migrate_database()
    try:
        with get_database().system_session() as session:
            owner = get_tenant(session, slug_or_id=tenant)
            _key, secret = create_api_key(
                session,
                tenant=owner,
                name=name,
                role=parse_role(role),
                expires_in_days=expires_in_days,
            )
    except PropensityError as exc:
        raise fail(exc.message) from exc
    console.print(f"API key (shown once): [bold]{secret}[/bold]")


@app.command("serve")
def serve_command(
    host: Annotated[str | None, typer.Option(help="Interface to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    workers: Annotated[int, typer.Option(min=1, help="API worker processes")] = 1,
    consumer: Annotated[bool, typer.Option(help="Run a job consumer in this process tree")] = True,
) -> None:
    """Serve the API (and a job consumer) over an existing database."""
    from propensity.server import serve

    settings = get_settings()
    serve(
        settings=settings,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        with_consumer=consumer,
    )


@app.command("demo")
def demo_command(
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve on 127.0.0.1:8000 afterwards")
    ] = True,
    reset: Annotated[bool, typer.Option(help="Delete and regenerate the demo tenant")] = False,
    seed: Annotated[int, typer.Option(help="Simulator seed")] = 42,
    scale: Annotated[
        float, typer.Option(min=0.01, max=10.0, help="Multiply the default data sizes")
    ] = 1.0,
    port: Annotated[int | None, typer.Option(help="Port to serve on")] = None,
) -> None:
    """Create the demo tenant with simulated data (and later trained models), then serve."""
    from propensity.demo import default_config, run_demo

    settings = get_settings()
    result = run_demo(
        settings=settings,
        database=get_database(settings),
        config=default_config(seed=seed, scale=scale, end=None),
        reset=reset,
        console=console,
    )
    if result.created:
        console.print(
            f"demo ready in {result.seconds:.0f} s: "
            + ", ".join(f"{count:,} {name}" for name, count in result.rows.items())
        )
        for model, summary in result.models.items():
            console.print(f"  {model}: {summary}")
    address = f"http://127.0.0.1:{port or 8000}/"
    # soft_wrap: an address cut over two lines cannot be copied or clicked.
    console.print(f"dashboard: [bold]{address}[/bold]", soft_wrap=True)
    console.print(f"API documentation: {address}docs", soft_wrap=True)
    console.print(f"admin login: [bold]{result.admin_email}[/bold]")
    if result.admin_password:
        console.print(f"admin password (shown once): [bold]{result.admin_password}[/bold]")
    elif settings.demo_admin_password is not None:
        console.print("admin password: the one set in PROPENSITY_DEMO_ADMIN_PASSWORD")
    else:
        console.print(
            "admin password: the one printed when the demo was created (or set "
            "PROPENSITY_DEMO_ADMIN_PASSWORD and run `propensity demo --reset`)",
            soft_wrap=True,
        )
    if serve_after:
        serve_command(host="127.0.0.1", port=port or 8000, workers=1, consumer=True)


def _register_domain_commands() -> None:
    """Commands owned by domain packages, kept out of this file to keep it small."""
    from propensity import cli_commands

    cli_commands.register(app)


def main() -> None:
    _register_domain_commands()
    app()
