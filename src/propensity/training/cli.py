"""Training commands: `propensity backtest` (and, with the feature builder, train/score)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from propensity.crm.formats import read_path
from propensity.errors import PropensityError

console = Console()
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
    result.predictions.to_csv(out, index=False)
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


def register(app: typer.Typer) -> None:
    app.command("backtest")(backtest)
