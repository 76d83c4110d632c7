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


# Days before today at which predictions are back-filled: old enough for their outcome
# windows (90 days for churn and conversion, 30 + 7 for health) to have closed. They are made
# by the previous model version (the one in service then) and judged against what happened.
BACKFILL_DAYS: dict[tuple[str, str | None], tuple[int, ...]] = {
    ("CHURN", "account"): (150, 120),
    ("HEALTH_TREND", "account"): (75, 45),
    ("CONVERSION", None): (120,),
    ("TIME_TO_CLOSE", None): (120,),
}
DEMO_CTAS = 12
# CTAs opened at each back-filled account date, then worked by simulated CSMs.
PAST_CTAS = 8
# The previous version of each model: trained on the data as it stood this many days ago,
# as XGBoost (every type has it) on at most this many rows, which keeps the demo's set-up
# short; the current version then chooses its family on all the data.
PREVIOUS_MODEL_DAYS = 42
PREVIOUS_MODEL_MAX_ROWS = 8_000
PREVIOUS_MODEL_FAMILY = "xgboost"


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
    from propensity.jobs import bind_queue, get_queue, unbind_queue
    from propensity.monitoring.tasks import check_model_drift
    from propensity.portfolio.service import record_history
    from propensity.predictions.service import score_and_record
    from propensity.training.service import train_prediction_type

    checked: list[bool] = []

    def label_of(prediction_type: str, kind: str | None) -> str:
        return f"{prediction_type.lower()}" + (f" ({kind})" if kind else "")

    def one(prediction_type: str, kind: str | None, task: TaskID) -> str:
        label = label_of(prediction_type, kind)
        progress = _bar_updater(bars, task)
        now = utcnow()
        try:
            previous = _previous_version(database, tenant_id, prediction_type, kind, now=now)
            past = BACKFILL_DAYS.get((prediction_type, kind), ())
            if previous is not None and past:
                _backfill(database, settings, tenant_id, prediction_type, kind, past, now=now)
            outcome = train_prediction_type(
                database,
                tenant_id=tenant_id,
                prediction_type=prediction_type,
                kind=kind,
                progress=progress,
            )
            with database.tenant_session(tenant_id) as session:
                run = score_and_record(session, prediction_type=prediction_type, kind=kind)
            # The nightly drift check, once now, so the dashboard and alerts have one from the
            # start (here, while the other worker trains).
            checked.append(
                check_model_drift(
                    database, tenant_id=tenant_id, version_id=outcome.version_id, now=utcnow()
                )
            )
        except PropensityError as exc:
            bars.update(task, description=f"skipped {label}", completed=1.0)
            return f"skipped: {exc.message}"
        summary = f"{outcome.algorithm} {outcome.version}, {len(run.results):,} scored"
        if previous is not None:
            summary += f" (previous {previous})"
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

    # Longest first, so the two workers finish close together. The back-filling jobs go to
    # this process's queue, bound while the models train (and run here, not by a worker).
    order = sorted(MODELS, key=lambda m: m[0] not in ("CONVERSION", "TIME_TO_CLOSE"))
    queue = get_queue(settings, database)
    bind_queue(database, queue)
    try:
        with _progress(console) as bars, ThreadPoolExecutor(max_workers=2) as pool:
            tasks = {m: bars.add_task(f"training {label_of(*m)}", total=1.0) for m in MODELS}
            futures = {m: pool.submit(one, m[0], m[1], tasks[m]) for m in order}
            summaries = {label_of(*m): futures[m].result() for m in MODELS}
    finally:
        unbind_queue(database, queue)
    summaries["customer success"] = _customer_success_actions(database, settings, tenant_id)
    # The tables just grew from nothing to millions of rows: plan with statistics from now.
    with database.engine.begin() as conn:
        refresh_planner_statistics(conn)
    summaries["monitoring"] = f"{sum(checked)} drift checks stored"
    return summaries


def _previous_version(
    database: Database,
    tenant_id: int,
    prediction_type: str,
    kind: str | None,
    *,
    now: dt.datetime,
) -> str | None:
    """Trains the version the current one is compared with: the same training on the data as
    it stood PREVIOUS_MODEL_DAYS ago (an XGBoost model on at most PREVIOUS_MODEL_MAX_ROWS
    rows), activated so the back-filled predictions are its own. Returns its summary, or None
    when that data was too little (the current version is then the first)."""
    from propensity.errors import PropensityError
    from propensity.training.hyperparameters import TrainingChoices
    from propensity.training.service import train_prediction_type

    data_end = now - dt.timedelta(days=PREVIOUS_MODEL_DAYS)
    try:
        outcome = train_prediction_type(
            database,
            tenant_id=tenant_id,
            prediction_type=prediction_type,
            kind=kind,
            max_rows=PREVIOUS_MODEL_MAX_ROWS,
            data_end=data_end,
            choices=TrainingChoices(family=PREVIOUS_MODEL_FAMILY),
            description=f"Trained on the data as it stood on {data_end.date().isoformat()}",
        )
    except PropensityError:
        return None
    return f"{outcome.algorithm} {outcome.version} on data to {data_end.date().isoformat()}"


def _backfill(
    database: Database,
    settings: Settings,
    tenant_id: int,
    prediction_type: str,
    kind: str | None,
    days_back: tuple[int, ...],
    *,
    now: dt.datetime,
) -> None:
    """Predictions made in the past by the model then in service, whose outcomes the data
    already knows (oldest first, since each run supersedes the one before): the accuracy
    figures judge them. For accounts, the riskiest get CTAs at that date, which simulated
    CSMs then work (simulator/csm.py)."""
    from propensity.ctas.candidates import generate_ctas
    from propensity.ctas.service import update_cta
    from propensity.errors import PropensityError
    from propensity.jobs import JobStatus, enqueue_job, get_job, get_queue
    from propensity.predictions.tasks import SCORE_PORTFOLIO
    from propensity.simulator.csm import OpenCta, work_ctas

    queue = get_queue(settings, database)
    for days in days_back:
        as_of = now - dt.timedelta(days=days)
        # A real scoring job (the batch path: only the predictions at risk carry their
        # explanation, which CTAs quote), run here rather than by a worker; its outcome is
        # what the ML platform's errorRate counts.
        params = {"predictionType": prediction_type, "kind": kind, "asOf": as_of.isoformat()}
        with database.tenant_session(tenant_id) as session:
            job_id = enqueue_job(session, type=SCORE_PORTFOLIO, params=params).id
        queue.runner.run(job_id)
        with database.tenant_session(tenant_id) as session:
            job = get_job(session, job_id=job_id)
            if job.status != JobStatus.COMPLETED.value:
                raise PropensityError(
                    f"Back-filling {prediction_type} failed: {job.error}", code="BACKFILL_FAILED"
                )
        if kind != "account":
            continue
        with database.tenant_session(tenant_id) as session:
            outcomes = generate_ctas(
                session,
                prediction_type=prediction_type,
                max_ctas=PAST_CTAS,
                user_id=None,
                now=as_of,
                cooldown_days=settings.cta_cooldown_days,
            )
            opened = [
                OpenCta(cta_id=o.cta.id, priority=o.cta.priority, created_at=o.cta.created_at)
                for o in outcomes
                if o.was_created and o.cta is not None
            ]
            for change in work_ctas(opened, seed=days, end=now):
                update_cta(session, cta_id=change.cta_id, status=change.status, now=change.at)


def _customer_success_actions(database: Database, settings: Settings, tenant_id: int) -> str:
    """Judges the back-filled account and lead predictions against what happened and opens
    CTAs for the riskiest accounts, as a customer-success team would after the first
    scoring."""
    from propensity.ctas.candidates import generate_ctas
    from propensity.predictions.lead_validation import validate_expired_leads
    from propensity.predictions.validation import validate_expired

    now = utcnow()
    with database.tenant_session(tenant_id) as session:
        judged = validate_expired(
            session, now=now, tolerance_points=settings.health_tolerance_points, kind="account"
        )
        judged += validate_expired_leads(session, now=now)
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
