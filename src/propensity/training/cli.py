"""Training commands: `propensity backtest` (and, with the feature builder, train/score)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from propensity.crm.formats import read_path
from propensity.csvsafe import safe_frame
from propensity.errors import PropensityError

# Piped output gets a wide console: Rich would otherwise cut tables at 80 columns.
console = Console() if sys.stdout.isatty() else Console(width=200)
err_console = Console(stderr=True)


class BinaryType(StrEnum):
    CHURN = "CHURN"
    CONVERSION = "CONVERSION"


def _stage_progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<14}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err_console,
    )


def backtest(
    train: Annotated[Path, typer.Option("--train", help="Labelled file to train on")],
    test: Annotated[Path, typer.Option("--test", help="File to score (label optional)")],
    label: Annotated[str, typer.Option(help="Outcome column")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the predictions CSV")],
    positive: Annotated[
        str | None, typer.Option(help="Value of the label column meaning yes")
    ] = None,
    prediction_type: Annotated[
        BinaryType, typer.Option("--type", help="What the label means")
    ] = BinaryType.CHURN,
    seed: Annotated[int, typer.Option(help="Random seed")] = 0,
) -> None:
    """Train on one file and score another, with the same pipeline as `train`."""
    from propensity.training.backtest import run_backtest

    try:
        train_table, test_table = read_path(train), read_path(test)
        with _stage_progress() as bars:
            task = bars.add_task("training", total=1.0)

            def on_stage(stage: str, fraction: float) -> None:
                bars.update(task, description=stage, completed=fraction)

            result = run_backtest(
                train=train_table.frame,
                test=test_table.frame,
                label=label,
                positive=positive,
                seed=seed,
                progress=on_stage,
            )
            bars.update(task, description="done", completed=1.0)
    except PropensityError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    safe_frame(result.predictions).to_csv(out, index=False)
    model = result.model
    summary = {
        "type": prediction_type.value,
        "model": model.family,
        "selection": model.selection.get("reason"),
        "threshold": model.threshold,
        "heldOutMetrics": model.metrics,
        "testMetrics": result.test_metrics,
        "predictions": str(out),
        "rows": len(result.predictions),
    }
    console.print_json(json.dumps(summary, default=str))


TenantOpt = Annotated[str, typer.Option("--tenant", "-t", help="Tenant name")]
KindOpt = Annotated[
    str | None, typer.Option("--kind", help="Customer kind for CHURN: account or subscriber")
]


def _tenant_id(tenant: str) -> int:
    from propensity.db import get_database
    from propensity.tenancy.service import get_tenant

    with get_database().system_session() as session:
        return get_tenant(session, slug_or_id=tenant).id


def _prepare() -> None:
    from propensity.migrate import migrate_database

    migrate_database()


def train(
    prediction_type: Annotated[
        str, typer.Argument(help="CHURN, CONVERSION, TIME_TO_CLOSE or HEALTH_TREND")
    ],
    tenant: TenantOpt,
    kind: KindOpt = None,
    seed: Annotated[int, typer.Option(help="Random seed")] = 0,
) -> None:
    """Train a model on the tenant's data and make it the active one."""
    from propensity.db import get_database
    from propensity.training.service import train_prediction_type

    try:
        _prepare()
        tenant_id = _tenant_id(tenant)
        with _stage_progress() as bars:
            task = bars.add_task("training", total=1.0)
            outcome = train_prediction_type(
                get_database(),
                tenant_id=tenant_id,
                prediction_type=prediction_type,
                kind=kind,
                seed=seed,
                progress=lambda stage, f: bars.update(task, description=stage, completed=f),
            )
    except PropensityError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from exc
    summary = {
        "modelId": outcome.version_id,
        "version": outcome.version,
        "type": outcome.prediction_type,
        "population": outcome.population,
        "algorithm": outcome.algorithm,
        "seconds": round(outcome.seconds, 1),
        "metrics": outcome.metrics,
    }
    console.print_json(json.dumps(summary, default=str))


def score(
    prediction_type: Annotated[
        str, typer.Argument(help="CHURN, CONVERSION, TIME_TO_CLOSE or HEALTH_TREND")
    ],
    tenant: TenantOpt,
    kind: KindOpt = None,
    export: Annotated[Path | None, typer.Option(help="Also write the scores to this CSV")] = None,
) -> None:
    """Score every live entity with the active model and record the predictions."""
    import pandas as pd

    from propensity.db import get_database
    from propensity.predictions.service import score_and_record

    try:
        _prepare()
        tenant_id = _tenant_id(tenant)
        with err_console.status("scoring"), get_database().tenant_session(tenant_id) as session:
            run = score_and_record(session, prediction_type=prediction_type, kind=kind)
    except PropensityError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from exc
    console.print(
        f"scored {len(run.results):,} with {run.version.prediction_type} "
        f"{run.version.population} {run.version.version} ({run.version.algorithm})"
    )
    if export is not None:
        rows = [
            {
                "id": r.external_id,
                "probability": r.probability,
                "predicted_value": r.predicted_value,
                "confidence": r.confidence,
                "top_drivers": "; ".join(list(r.contributions["features"])[:3]),
            }
            for r in run.results
        ]
        export.parent.mkdir(parents=True, exist_ok=True)
        safe_frame(pd.DataFrame(rows)).to_csv(export, index=False)
        console.print(f"wrote {export}")


models_app = typer.Typer(help="Trained models.", no_args_is_help=True)


@models_app.command("list")
def models_list(tenant: TenantOpt) -> None:
    """List the tenant's model versions, newest first."""
    from rich.table import Table

    from propensity.db import get_database
    from propensity.registry.service import list_versions

    _prepare()
    table = Table("id", "type", "population", "version", "algorithm", "status", "metric", "trained")
    with get_database().tenant_session(_tenant_id(tenant)) as session:
        for v in list_versions(session):
            m = v.metrics or {}
            metric = next(
                (f"{k}={m[k]:.3f}" for k in ("roc_auc", "c_index", "mae") if m.get(k) is not None),
                "",
            )
            trained = v.trained_at.strftime("%Y-%m-%d %H:%M") if v.trained_at else ""
            table.add_row(
                str(v.id),
                v.prediction_type,
                v.population,
                v.version,
                v.algorithm or "",
                v.status,
                metric,
                trained,
            )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("backtest")(backtest)
    app.command("train")(train)
    app.command("score")(score)
    app.add_typer(models_app, name="models")
