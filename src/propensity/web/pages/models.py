"""The model owner's pages: `/models`, every version per prediction type and population with
its status, held-out metrics, training time and data size; `/models/{id}`, one version's
ROC curve and reliability diagram, feature importance, drift, accuracy against real outcomes
over time, latency and its champion/challenger deployment, with the admin actions
(models_actions.py).

The numbers are the ML-platform surface's: the registry's stored metrics (`GET
/api/ml/models/{id}`), `monitoring.report.model_performance` (`.../performance`), the stored
daily drift check (`.../drift` computes a fresh one; a page does not, it would take seconds),
and `registry.deployments` (`.../deployment`). The curves say what they were measured on
(monitoring/curves.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from propensity.crm.lookup import parse_id
from propensity.db import Session, utcnow
from propensity.errors import NotFound
from propensity.jobs import get_job
from propensity.models import Deployment, DeploymentStatus, ModelStatus, ModelVersion
from propensity.monitoring import drift as drift_stats
from propensity.monitoring.curves import accuracy_over_time, model_curves
from propensity.monitoring.performance import PERIODS
from propensity.monitoring.report import drift_summary, model_performance
from propensity.registry.deployments import arm_stats, deployment_of
from propensity.registry.routing import running_deployment
from propensity.registry.service import active_version, get_version, list_versions
from propensity.web.context import PageContext, PageError, ViewerPage
from propensity.web.pages import models_charts as charts
from propensity.web.render import render

router = APIRouter(include_in_schema=False)
DEFAULT_PERIOD = "30d"
TRAIN_CHOICES = (
    ("CHURN:account", "Account churn"),
    ("CHURN:subscriber", "Subscriber churn"),
    ("HEALTH_TREND:", "Account health trend"),
    ("CONVERSION:", "Lead conversion"),
    ("TIME_TO_CLOSE:", "Lead time to close"),
)
TYPE_NAMES = {
    ("CHURN", "account"): "Account churn",
    ("CHURN", "subscriber"): "Subscriber churn",
    ("HEALTH_TREND", "account"): "Account health trend",
    ("CONVERSION", "lead"): "Lead conversion",
    ("TIME_TO_CLOSE", "lead"): "Lead time to close",
}


def type_name(version: ModelVersion) -> str:
    key = (version.prediction_type, version.population)
    return TYPE_NAMES.get(key, f"{version.prediction_type.title()} ({version.population})")


def train_commands(slug: str) -> list[str]:
    return [
        f"propensity train {value.split(':')[0]} --tenant {slug}"
        + (f" --kind {value.split(':')[1]}" if value.split(":")[1] else "")
        for value, _ in TRAIN_CHOICES
    ]


def version_or_404(session: Session, raw_id: str) -> ModelVersion:
    version_id = parse_id(raw_id)
    try:
        if version_id is None:
            raise NotFound("not an id")
        return get_version(session, version_id=version_id)
    except NotFound:
        raise PageError(404, f"There is no model {raw_id!r} in your workspace.") from None


def _roles(running: Deployment | None) -> dict[int, str]:
    if running is None:
        return {}
    return {running.champion_version_id: "champion", running.challenger_version_id: "challenger"}


@router.get("/models", response_class=HTMLResponse)
def models_page(ctx: ViewerPage) -> HTMLResponse:
    session = ctx.session
    groups: dict[tuple[str, str], list[ModelVersion]] = {}
    for version in list_versions(session):
        groups.setdefault((version.prediction_type, version.population), []).append(version)
    sections = []
    order = list(TYPE_NAMES)
    for (ptype, population), versions in sorted(
        groups.items(), key=lambda item: (order.index(item[0]) if item[0] in order else 99, item[0])
    ):
        running = running_deployment(session, prediction_type=ptype, population=population)
        by_id = {v.id: v for v in versions}
        metric_keys = [
            k for k in charts.LIST_METRICS if any(k in (v.metrics or {}) for v in versions)
        ]
        sections.append(
            {
                "name": type_name(versions[0]),
                "key": f"{ptype}-{population}".lower(),
                "versions": versions,
                "running": running,
                "challenger": None if running is None else by_id.get(running.challenger_version_id),
                "roles": _roles(running),
                "metric_keys": metric_keys,
                "metric_headers": [(charts.LIST_LABELS[k], "num") for k in metric_keys],
            }
        )
    return render(
        ctx,
        "models/list.html",
        sections=sections,
        labels=charts.LIST_LABELS,
        data_size=charts.data_size,
        train_choices=TRAIN_CHOICES,
        commands=train_commands(ctx.principal.tenant_slug),
    )


def _drift_rows(stored: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not stored:
        return []
    drifted = {d["feature"] for d in stored.get("driftedFeatures") or []}
    rows = [
        {
            "feature": name,
            "psi": float(psi),
            "level": drift_stats.level(float(psi)),
            "drifted": name in drifted,
        }
        for name, psi in (stored.get("featureDrift") or {}).items()
        if isinstance(psi, int | float)
    ]
    rows.sort(key=lambda r: -r["psi"])
    return rows


def _previous_champion(session: Session, version: ModelVersion) -> ModelVersion | None:
    """The version this active one replaced when it was deployed, while it can serve again
    (inactive): the target of a roll back."""
    if version.status != ModelStatus.ACTIVE.value:
        return None
    deployed = deployment_of(session, version=version)
    if (
        deployed is None
        or deployed.status != DeploymentStatus.PROMOTED.value
        or deployed.champion_version_id == version.id
    ):
        return None
    try:
        previous = get_version(session, version_id=deployed.champion_version_id)
    except NotFound:
        return None
    return previous if previous.status == ModelStatus.INACTIVE.value else None


def _actions(ctx: PageContext, version: ModelVersion, running: Deployment | None) -> dict[str, Any]:
    """Which admin actions apply to this version now (none for other roles: a viewer sees
    no action it cannot take; the POST handlers check again)."""
    if not ctx.is_admin:
        return {}
    session = ctx.session
    trained = version.artifact_hash is not None
    active = active_version(
        session, prediction_type=version.prediction_type, population=version.population
    )
    idle = running is None
    inactive = version.status == ModelStatus.INACTIVE.value
    mine = running is not None and running.challenger_version_id == version.id
    possible = {
        "retrain": version.status != ModelStatus.TRAINING.value,
        "deploy": trained and inactive and idle and active is not None,
        "promote": trained and inactive and idle,
        "decide": mine,
        "rollback": mine,
        "previous": _previous_champion(session, version) if idle else None,
    }
    return {name: value for name, value in possible.items() if value}


def _deployment_view(session: Session, deployment: Deployment | None) -> dict[str, Any] | None:
    if deployment is None:
        return None
    return {
        "deployment": deployment,
        "arms": {
            arm: arm_stats(session, deployment=deployment, arm=arm)
            for arm in ("champion", "challenger")
        },
    }


@router.get("/models/{model_id}", response_class=HTMLResponse)
def model_page(model_id: str, ctx: ViewerPage, period: str = "") -> HTMLResponse:
    session, now = ctx.session, utcnow()
    version = version_or_404(session, model_id)
    period = period or DEFAULT_PERIOD
    if period not in PERIODS:
        raise PageError(400, f"Unknown period {period!r}: choose one of {', '.join(PERIODS)}.")
    running = running_deployment(
        session, prediction_type=version.prediction_type, population=version.population
    )
    in_running = running is not None and version.id in (
        running.champion_version_id,
        running.challenger_version_id,
    )
    latest = deployment_of(session, version=version)
    job = None
    if version.status == ModelStatus.TRAINING.value and version.job_id:
        try:
            job = get_job(session, job_id=version.job_id)
        except NotFound:
            job = None
    values: dict[str, Any] = {
        "model": version,
        "type_name": type_name(version),
        "metrics": charts.metric_rows(version),
        "size": charts.data_size(version),
        "job": job,
        "running": _deployment_view(session, running) if in_running else None,
        "other_running": running if running is not None and not in_running else None,
        "latest": latest if latest is not None and latest is not running else None,
        "actions": _actions(ctx, version, running),
        "period": period,
        "periods": list(PERIODS),
        "commands": train_commands(ctx.principal.tenant_slug),
    }
    if version.artifact_hash is None:
        return render(ctx, "models/detail.html", trained=False, **values)
    curves = model_curves(session, version=version)
    importance = charts.importance_rows(version)
    stored_drift = drift_summary(session, version=version, now=now, compute=False)
    performance = model_performance(
        session, version=version, period=period, now=now, drift=stored_drift, compute_drift=False
    )
    accuracy = accuracy_over_time(session, version=version)
    values.update(
        trained=True,
        curves=curves,
        roc_chart=charts.roc_chart(curves) if curves is not None and curves.roc else None,
        reliability_chart=charts.reliability_chart(curves) if curves is not None else None,
        importance=importance,
        importance_chart=charts.importance_chart(importance) if importance else None,
        groups=(version.training_summary or {}).get("groupImportance") or {},
        drift=stored_drift,
        drift_rows=_drift_rows(stored_drift),
        performance=performance,
        accuracy=accuracy,
        accuracy_chart=charts.accuracy_chart(accuracy) if accuracy else None,
    )
    return render(ctx, "models/detail.html", **values)
