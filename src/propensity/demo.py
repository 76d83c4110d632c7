"""`propensity demo`: a tenant with realistic simulated data, ready to explore.

Idempotent: a second run finds the demo tenant and leaves its data alone, unless asked to
reset it. The admin password comes from PROPENSITY_DEMO_ADMIN_PASSWORD or is generated and
printed once; there is no default password.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial

import sqlalchemy as sa
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from propensity.crm.service import ImportOptions, import_frame
from propensity.db import Database, refresh_planner_statistics, utcnow
from propensity.migrate import upgrade
from propensity.models import Customer, Role, Tenant
from propensity.settings import Settings
from propensity.simulator import STAGES, SimulationConfig, simulate
from propensity.tenancy.passwords import generate_password
from propensity.tenancy.service import create_tenant, create_user

DEMO_TENANT = "demo"
# Import order: events and health name the customers and leads they belong to.
IMPORT_ORDER = (
    ("accounts", "customers"),
    ("subscribers", "customers"),
    ("leads", "leads"),
    ("deals", "deals"),
    ("health", "health"),
    ("events", "events"),
)


# What the demo trains, in order: (prediction type, customer kind).
MODELS: tuple[tuple[str, str | None], ...] = (
    ("CHURN", "account"),
    ("CHURN", "subscriber"),
    ("HEALTH_TREND", "account"),
    ("CONVERSION", None),
    ("TIME_TO_CLOSE", None),
)


# Days before today at which account predictions are back-filled: old enough for their
# outcome windows (90 days for churn, 30 + 7 for health) to have closed.
ACCOUNT_BACKFILL_DAYS = {"CHURN": (150, 120), "HEALTH_TREND": (75, 45)}
DEMO_CTAS = 12


@dataclass(frozen=True, kw_only=True)
class DemoResult:
    tenant_id: int
    admin_email: str
    admin_password: str | None  # only when generated in this run
    created: bool
    seconds: float
    rows: dict[str, int]
    models: dict[str, str] = field(default_factory=dict)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<22}"),
        BarColumn(),
        TextColumn("{task.completed:>10,.0f}/{task.total:,.0f}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _reset_tenant(database: Database, slug: str) -> None:
    with database.system_session() as session:
        session.execute(sa.delete(Tenant).where(Tenant.slug == slug))


def _create_tenant_and_admin(database: Database, settings: Settings) -> tuple[int, str, str | None]:
    email = settings.demo_admin_email
    configured = settings.demo_admin_password
    password = configured.get_secret_value() if configured else generate_password()
    with database.system_session() as session:
        tenant = create_tenant(session, slug=DEMO_TENANT, name="Demo Company")
        create_user(
            session, tenant=tenant, email=email, password=password, role=Role.ADMIN, name="Admin"
        )
        return tenant.id, email, None if configured else password


def _generate_and_import(
    database: Database, tenant_id: int, config: SimulationConfig, console: Console
) -> dict[str, int]:
    rows: dict[str, int] = {}
    with _progress(console) as bars:
        sim_task = bars.add_task("simulating", total=len(STAGES))

        def on_stage(stage: str, fraction: float) -> None:
            if fraction >= 1.0:
                bars.update(sim_task, advance=1, description=f"simulating: {stage}")

        data = simulate(config, progress=on_stage)
        frames = data.frames()
        tasks: dict[str, TaskID] = {
            name: bars.add_task(f"importing {name}", total=len(frames[name]))
            for name, _kind in IMPORT_ORDER
        }
        # One transaction: the demo tenant appears complete or not at all.
        with database.tenant_session(tenant_id) as session:
            for name, kind in IMPORT_ORDER:
                result = import_frame(
                    session,
                    kind=kind,
                    frame=frames[name],
                    options=ImportOptions(),
                    progress=partial(bars.advance, tasks[name]),
                )
                bars.update(tasks[name], completed=len(frames[name]))
                rows[name] = result.total
    return rows


def _bar_updater(bars: Progress, task: TaskID) -> Callable[[str, float], None]:
    def update(_stage: str, fraction: float) -> None:
        bars.update(task, completed=fraction)

    return update


def _train_and_score(
    database: Database, settings: Settings, tenant_id: int, console: Console
) -> dict[str, str]:
    """Trains every demo model and scores the live population with it, two at a time.

    XGBoost, NumPy and the database driver release the GIL for most of the work, so two
    threads use both cores of a small machine. A model the data cannot support (too few
    examples at a small --scale) is reported and skipped: the demo still serves the rest.
    """
    from propensity.errors import PropensityError
    from propensity.portfolio.service import record_history
    from propensity.predictions.service import score_and_record
    from propensity.training.service import train_prediction_type

    def label_of(prediction_type: str, kind: str | None) -> str:
        return f"{prediction_type.lower()}" + (f" ({kind})" if kind else "")

    def one(prediction_type: str, kind: str | None, task: TaskID) -> str:
        label = label_of(prediction_type, kind)
        try:
            outcome = train_prediction_type(
                database,
                tenant_id=tenant_id,
                prediction_type=prediction_type,
                kind=kind,
                progress=_bar_updater(bars, task),
            )
            with database.tenant_session(tenant_id) as session:
                if kind == "account":
                    # Predictions made in the past, whose outcomes the data already knows:
                    # the customer-success accuracy figures judge them (oldest first, since
                    # each run supersedes the one before).
                    now = utcnow()
                    for days in ACCOUNT_BACKFILL_DAYS[prediction_type]:
                        score_and_record(
                            session,
                            prediction_type=prediction_type,
                            kind=kind,
                            as_of=now - dt.timedelta(days=days),
                        )
                run = score_and_record(session, prediction_type=prediction_type, kind=kind)
        except PropensityError as exc:
            bars.update(task, description=f"skipped {label}", completed=1.0)
            return f"skipped: {exc.message}"
        summary = f"{outcome.algorithm} {outcome.version}, {len(run.results):,} scored"
        if (prediction_type, kind) == ("CHURN", "subscriber"):
            # Churn KPI history: 3 fortnightly point-in-time snapshots plus today's (about
            # 6 s per past date at the default 20,000 subscribers).
            try:
                snapshots = record_history(database, tenant_id=tenant_id, days=42, every_days=14)
                summary += f", {snapshots} portfolio snapshots"
            except PropensityError as exc:
                summary += f", no portfolio history ({exc.message})"
        bars.update(task, completed=1.0)
        return summary

    # Longest first, so the two workers finish close together.
    order = sorted(MODELS, key=lambda m: m[0] not in ("CONVERSION", "TIME_TO_CLOSE"))
    with _progress(console) as bars, ThreadPoolExecutor(max_workers=2) as pool:
        tasks = {m: bars.add_task(f"training {label_of(*m)}", total=1.0) for m in MODELS}
        futures = {m: pool.submit(one, m[0], m[1], tasks[m]) for m in order}
        summaries = {label_of(*m): futures[m].result() for m in MODELS}
    summaries["customer success"] = _customer_success_actions(database, settings, tenant_id)
    # The tables just grew from nothing to millions of rows: plan with statistics from now.
    with database.engine.begin() as conn:
        refresh_planner_statistics(conn)
    # The nightly drift check, once now, so the dashboard and alerts have one from the start.
    from propensity.monitoring.tasks import check_drift

    summaries["monitoring"] = f"{check_drift(database)} drift checks stored"
    return summaries


def _customer_success_actions(database: Database, settings: Settings, tenant_id: int) -> str:
    """Judges the back-filled predictions against what happened and opens CTAs for the
    riskiest accounts, as a customer-success team would after the first scoring."""
    from propensity.ctas.candidates import generate_ctas
    from propensity.predictions.validation import validate_expired

    now = utcnow()
    with database.tenant_session(tenant_id) as session:
        judged = validate_expired(
            session, now=now, tolerance_points=settings.health_tolerance_points, kind="account"
        )
        outcomes = []
        for prediction_type in ("CHURN", "HEALTH_TREND"):
            outcomes += generate_ctas(
                session,
                prediction_type=prediction_type,
                max_ctas=DEMO_CTAS,
                user_id=None,
                now=now,
                cooldown_days=settings.cta_cooldown_days,
            )
    created = sum(1 for o in outcomes if o.was_created)
    return f"{judged:,} past predictions validated, {created} CTAs opened"


def run_demo(
    *,
    settings: Settings,
    database: Database,
    config: SimulationConfig,
    reset: bool = False,
    console: Console | None = None,
    train: bool = True,
) -> DemoResult:
    console = console or Console()
    started = time.perf_counter()
    upgrade(settings.resolved_database_url)
    settings.signing_key()
    if reset:
        _reset_tenant(database, DEMO_TENANT)
    with database.system_session() as session:
        existing = session.scalar(sa.select(Tenant).where(Tenant.slug == DEMO_TENANT))
        existing_id = existing.id if existing else None
    if existing_id is not None:
        with database.tenant_session(existing_id) as session:
            customers = session.scalar(sa.select(sa.func.count()).select_from(Customer)) or 0
        console.print(
            f"demo tenant exists ({customers:,} customers); keeping its data "
            "(use --reset to regenerate)"
        )
        return DemoResult(
            tenant_id=existing_id,
            admin_email=settings.demo_admin_email,
            admin_password=None,
            created=False,
            seconds=time.perf_counter() - started,
            rows={},
        )
    tenant_id, email, password = _create_tenant_and_admin(database, settings)
    try:
        rows = _generate_and_import(database, tenant_id, config, console)
        models = _train_and_score(database, settings, tenant_id, console) if train else {}
    except BaseException:
        # A half-built demo would be kept by the next run; remove it so that run starts over.
        _reset_tenant(database, DEMO_TENANT)
        raise
    return DemoResult(
        tenant_id=tenant_id,
        admin_email=email,
        admin_password=password,
        created=True,
        seconds=time.perf_counter() - started,
        rows=rows,
        models=models,
    )


def default_config(*, seed: int, scale: float, end: dt.date | None) -> SimulationConfig:
    base = SimulationConfig(seed=seed) if end is None else SimulationConfig(seed=seed, end=end)
    return replace(
        base,
        n_accounts=max(1, round(base.n_accounts * scale)),
        n_subscribers=max(1, round(base.n_subscribers * scale)),
        n_leads=max(1, round(base.n_leads * scale)),
        n_deals=max(1, round(base.n_deals * scale)),
    )
