"""Chart.js specs for the account pages (turned into charts by static/app.js): churn risk over
time with validated outcomes, health score history with its forecast, and the waterfall of
the current churn prediction's drivers. Specs are plain data; every number in them is on the
page as text too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from propensity.models import Prediction
from propensity.predictions.waterfall import Waterfall

RED = "#b91c1c"
GREEN = "#15803d"
BLUE = "#1d4ed8"
GREY = "#6b7280"
AMBER = "#b45309"
HEALTH_DAYS_SHOWN = 180


def _day(moment: datetime | date) -> str:
    return moment.strftime("%Y-%m-%d")


def churn_history_spec(predictions: Sequence[Prediction]) -> dict[str, Any]:
    """Churn probability of every stored churn prediction, oldest first; predictions whose
    outcome is known are marked: churned (red) or stayed (green)."""
    points = sorted(
        (p for p in predictions if p.probability is not None), key=lambda p: p.predicted_at
    )
    labels = [_day(p.predicted_at) for p in points]

    def outcome(churned: bool) -> list[float | None]:
        return [
            p.probability
            if p.validated_at is not None
            and p.actual_value is not None
            and (p.actual_value >= 0.5) == churned
            else None
            for p in points
        ]

    return {
        "type": "line",
        "format": {"y": "pct"},
        "data": {
            "labels": labels,
            "datasets": [
                {
                    "label": "Churn probability",
                    "data": [p.probability for p in points],
                    "borderColor": BLUE,
                    "backgroundColor": BLUE,
                    "tension": 0.2,
                },
                {
                    "label": "Outcome: churned",
                    "data": outcome(True),
                    "showLine": False,
                    "pointStyle": "crossRot",
                    "pointRadius": 9,
                    "borderColor": RED,
                    "borderWidth": 3,
                },
                {
                    "label": "Outcome: stayed",
                    "data": outcome(False),
                    "showLine": False,
                    "pointStyle": "rectRot",
                    "pointRadius": 8,
                    "borderColor": GREEN,
                    "backgroundColor": GREEN,
                },
            ],
        },
        "options": {"scales": {"y": {"min": 0, "suggestedMax": 1}}},
    }


def health_spec(
    history: Mapping[date, float],
    forecast: Prediction | None,
    *,
    horizon_days: int,
    today: date,
) -> dict[str, Any]:
    """The recorded health score (the last 180 days) and, when there is one, the forecast
    `horizon_days` after the prediction with its interval."""
    since = today - timedelta(days=HEALTH_DAYS_SHOWN)
    days = sorted(d for d in history if d >= since)
    labels = [_day(d) for d in days]
    recorded: list[float | None] = [round(history[d], 1) for d in days]
    forecast_line: list[float | None] = [None] * len(days)
    low: list[float | None] = [None] * len(days)
    high: list[float | None] = [None] * len(days)
    if forecast is not None and forecast.predicted_value is not None:
        outputs = forecast.outputs or {}
        target = forecast.predicted_at.date() + timedelta(days=horizon_days)
        labels.append(_day(target))
        recorded.append(None)
        if days:
            forecast_line[-1] = recorded[len(days) - 1]
            low[-1] = high[-1] = recorded[len(days) - 1]
        forecast_line.append(round(float(forecast.predicted_value), 1))
        low.append(round(float(outputs["low"]), 1) if "low" in outputs else None)
        high.append(round(float(outputs["high"]), 1) if "high" in outputs else None)
    return {
        "type": "line",
        "format": {"y": "num"},
        "data": {
            "labels": labels,
            "datasets": [
                {
                    "label": "Health score",
                    "data": recorded,
                    "borderColor": BLUE,
                    "backgroundColor": BLUE,
                    "pointRadius": 0,
                    "spanGaps": True,
                },
                {
                    "label": f"Forecast ({horizon_days} days)",
                    "data": forecast_line,
                    "borderColor": AMBER,
                    "backgroundColor": AMBER,
                    "borderDash": [6, 4],
                    "spanGaps": True,
                },
                {
                    "label": "Forecast interval (low)",
                    "data": low,
                    "borderColor": "rgba(180, 83, 9, 0.35)",
                    "pointRadius": 0,
                    "spanGaps": True,
                },
                {
                    "label": "Forecast interval (high)",
                    "data": high,
                    "borderColor": "rgba(180, 83, 9, 0.35)",
                    "backgroundColor": "rgba(180, 83, 9, 0.15)",
                    "fill": "-1",
                    "pointRadius": 0,
                    "spanGaps": True,
                },
            ],
        },
        "options": {"scales": {"y": {"suggestedMin": 0, "suggestedMax": 100}}},
    }


def waterfall_spec(waterfall: Waterfall) -> dict[str, Any]:
    """Floating horizontal bars: the baseline, each driver's step (red raises the churn risk,
    green lowers it) and the churn probability they add up to."""
    labels = ["Baseline", *[step.label for step in waterfall.steps], "Churn probability"]
    bars: list[list[float]] = [[0.0, waterfall.base]]
    colours = [GREY]
    for step in waterfall.steps:
        bars.append([step.start, step.end])
        colours.append(RED if step.delta > 0 else GREEN)
    bars.append([0.0, waterfall.probability])
    colours.append(BLUE)
    return {
        "type": "bar",
        "format": {"x": "pct", "tooltip": "pct"},
        "data": {
            "labels": labels,
            "datasets": [
                {
                    "label": "Change in churn probability",
                    "data": bars,
                    "backgroundColor": colours,
                    "borderSkipped": False,
                }
            ],
        },
        "options": {
            "indexAxis": "y",
            "plugins": {"legend": {"display": False}},
            "scales": {"x": {"min": 0}},
        },
    }
