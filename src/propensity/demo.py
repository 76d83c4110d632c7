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
from propensity.errors import PropensityError
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
# The order the two workers take them in: longest first (measured on the default data), so
# they finish close together. Subscriber churn (the largest population to replay, and the KPI
# history) keeps one worker about as long as the next two keep the other.
LONGEST_FIRST = (
    ("CHURN", "subscriber"),
    ("TIME_TO_CLOSE", None),
    ("CONVERSION", None),
    ("CHURN", "account"),
    ("HEALTH_TREND", "account"),
)


@dataclass(frozen=True)
class Service:
    """When each version of a model went into service, in days before the end of the
    simulated data. Each version is trained on the data as it stood that day and scores its
    population that day (a real scoring job); the previous version served until the champion
    replaced it, and the champion has served since (it scores again today)."""

    previous: int
    champion: int


# Both days are old enough for the outcome windows of that day's predictions to have closed
# inside the data: 98 days = the 90-day horizon of churn, conversion and time to close + 8;
# 42 = health's 30 + its +/- 7-day target window + 5. So every prediction either version made
# is judged against what happened after it (a time to close only once it closed or its p90
# passed), and the champion's concept drift compares its accuracy on predictions it really
# made with its held-out accuracy (ADR 0016). A later day would leave the champion's
# predictions half judged (a churn is known the day it happens, a stay only when the window
# ends), which would bias that accuracy. The champion replaced the previous version 28 days
# later, as a monthly retrain would.
SERVICE: dict[tuple[str, str | None], Service] = {
    ("CHURN", "account"): Service(previous=126, champion=98),
    ("CHURN", "subscriber"): Service(previous=126, champion=98),
    ("HEALTH_TREND", "account"): Service(previous=70, champion=42),
    ("CONVERSION", None): Service(previous=126, champion=98),
    ("TIME_TO_CLOSE", None): Service(previous=126, champion=98),
}
DEMO_CTAS = 12
# CTAs opened at each day an account model went into service, then worked by simulated CSMs.
PAST_CTAS = 8
# The previous version: XGBoost (every type has it) on at most this many rows, which keeps
# the demo's set-up short; the champion chooses its family on the trainer's default rows.
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
    database: Database,
    settings: Settings,
    tenant_id: int,
    console: Console,
    *,
    history_end: dt.datetime,
) -> dict[str, str]:
    """Trains every demo model and replays its service (SERVICE), then scores the live
    population with the champion, two models at a time; then judges the past predictions and
    runs the first drift checks.

    XGBoost, NumPy and the database driver release the GIL for most of the work, so two
    threads use both cores of a small machine. A model the data cannot support (too few
    examples at a small --scale) is reported and skipped: the demo still serves the rest.
    """
    from propensity.jobs import bind_queue, get_queue, unbind_queue
    from propensity.monitoring.tasks import check_model_drift
    from propensity.portfolio.service import record_history
    from propensity.predictions.service import score_and_record

    champions: list[int] = []

    def label_of(prediction_type: str, kind: str | None) -> str:
        return f"{prediction_type.lower()}" + (f" ({kind})" if kind else "")

    def one(prediction_type: str, kind: str | None, task: TaskID) -> str:
        label = label_of(prediction_type, kind)
        service = SERVICE[(prediction_type, kind)]
        now = utcnow()
        train = partial(_train_version, database, tenant_id, prediction_type, kind)
        replay = partial(_backfill, database, settings, tenant_id, prediction_type, kind, now=now)
        try:
            try:
                previous: _Trained | None = train(
                    data_end=history_end - dt.timedelta(days=service.previous), previous=True
                )
                replay(days=service.previous, history_end=history_end)
            except InsufficientHistory:
                previous = None
            try:
                champion = train(
                    data_end=history_end - dt.timedelta(days=service.champion),
                    previous=False,
                    progress=_bar_updater(bars, task),
                )
                replay(days=service.champion, history_end=history_end)
            except InsufficientHistory:
                # Too little data as it stood then (a small --scale): a champion of all the
                # data, with no past of its own, as on a fresh installation.
                champion = train(data_end=None, previous=False, progress=_bar_updater(bars, task))
            with database.tenant_session(tenant_id) as session:
                run = score_and_record(session, prediction_type=prediction_type, kind=kind)
            champions.append(champion.version_id)
        except PropensityError as exc:
            bars.update(task, description=f"skipped {label}", completed=1.0)
            return f"skipped: {exc.message}"
        summary = f"{champion.summary}, {len(run.results):,} scored"
        if previous is not None:
            summary += f" (previous {previous.summary})"
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

    # The replayed scoring jobs go to this process's queue, bound while the models train (and
    # run here, not by a worker).
    order = sorted(MODELS, key=LONGEST_FIRST.index)
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
    # The nightly drift check, once now, so the dashboard and alerts have one from the start;
    # after the judging, as at night, so it has the champions' concept drift.
    # One after the other: on SQLite two checks storing at once could wait on each other's
    # write lock past the busy timeout, and a skipped check leaves a model without one.
    checked_at = utcnow()
    checked = [
        check_model_drift(database, tenant_id=tenant_id, version_id=version_id, now=checked_at)
        for version_id in champions
    ]
    summaries["monitoring"] = f"{sum(checked)} drift checks stored"
    return summaries


class InsufficientHistory(PropensityError):
    """The data as it stood on a past day could not train a model (a small --scale)."""


@dataclass(frozen=True)
class _Trained:
    version_id: int
    summary: str


def _train_version(
    database: Database,
    tenant_id: int,
    prediction_type: str,
    kind: str | None,
    *,
    data_end: dt.datetime | None,
    previous: bool,
    progress: Callable[[str, float], None] | None = None,
) -> _Trained:
    """Trains a version on the data as it stood at `data_end` (all of it when None) and
    activates it, so the predictions replayed next are its own; InsufficientHistory when the
    data as it stood then could not train it. The previous version is XGBoost on at most
    PREVIOUS_MODEL_MAX_ROWS rows; the champion chooses its family on the default rows."""
    from propensity.features.training import DEFAULT_MAX_ROWS
    from propensity.training.hyperparameters import TrainingChoices
    from propensity.training.service import train_prediction_type

    day = "" if data_end is None else data_end.date().isoformat()
    try:
        outcome = train_prediction_type(
            database,
            tenant_id=tenant_id,
            prediction_type=prediction_type,
            kind=kind,
            progress=progress,
            data_end=data_end,
            max_rows=PREVIOUS_MODEL_MAX_ROWS if previous else DEFAULT_MAX_ROWS,
            choices=TrainingChoices(family=PREVIOUS_MODEL_FAMILY) if previous else None,
            description=f"Trained on the data as it stood on {day}, in service from then"
            if data_end is not None
            else "Trained on all the data",
        )
    except PropensityError as exc:
        if data_end is None:
            raise
        raise InsufficientHistory(exc.message, code=exc.code) from exc
    data = f"on data to {day}" if data_end is not None else "on all the data"
    return _Trained(
        version_id=outcome.version_id, summary=f"{outcome.algorithm} {outcome.version} {data}"
    )


def _backfill(
    database: Database,
    settings: Settings,
    tenant_id: int,
    prediction_type: str,
    kind: str | None,
    *,
    days: int,
    history_end: dt.datetime,
    now: dt.datetime,
) -> None:
    """The predictions the active version made on the day `days` before the end of the data,
    when it went into service (the outcomes the data holds after that day judge them). For
    accounts, the riskiest get CTAs that day, which simulated CSMs then work
    (simulator/csm.py)."""
    from propensity.ctas.candidates import generate_ctas
    from propensity.ctas.service import update_cta
    from propensity.jobs import JobStatus, enqueue_job, get_job, get_queue
    from propensity.predictions.tasks import SCORE_PORTFOLIO
    from propensity.simulator.csm import OpenCta, work_ctas

    queue = get_queue(settings, database)
    as_of = history_end - dt.timedelta(days=days)
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
        return
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
    """Judges the past account, subscriber and lead predictions against what happened and
    opens CTAs for the riskiest accounts, as a customer-success team would after the first
    scoring."""
    from propensity.ctas.candidates import generate_ctas
    from propensity.predictions.lead_validation import validate_expired_leads
    from propensity.predictions.validation import validate_expired

    now = utcnow()
    with database.tenant_session(tenant_id) as session:
        # Kind by kind: each is judged against the data of its own kind (validation.py).
        judged = sum(
            validate_expired(
                session, now=now, tolerance_points=settings.health_tolerance_points, kind=kind
            )
            for kind in ("account", "subscriber")
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


def _history_end(config: SimulationConfig) -> dt.datetime:
    """Where the simulated data ends (the start of `config.end`), never later than now: the
    day the demo's model history is counted back from."""
    return min(utcnow(), dt.datetime.combine(config.end, dt.time(), tzinfo=dt.UTC))


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
        models = (
            _train_and_score(
                database, settings, tenant_id, console, history_end=_history_end(config)
            )
            if train
            else {}
        )
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
