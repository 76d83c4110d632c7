"""What the model pages draw and how they name things: Chart.js specs (static/app.js draws
them) for the ROC curve, the reliability diagram, feature importance and accuracy over time,
and human names for the stored metrics. Pure: data in, dicts out."""

from __future__ import annotations

from typing import Any

from propensity.models import ModelVersion
from propensity.monitoring.curves import AccuracyPoint, Curves

# Stored metric -> (label, API name in GET /api/ml/models/{id}, format). Unlisted numeric
# metrics are shown under their stored name.
METRICS: dict[str, tuple[str, str, str]] = {
    "roc_auc": ("ROC-AUC", "auc", "num3"),
    "pr_auc": ("PR-AUC (average precision)", "prAuc", "num3"),
    "accuracy": ("Accuracy at the threshold", "testAccuracy", "pct"),
    "precision": ("Precision", "precision", "pct"),
    "recall": ("Recall", "recall", "pct"),
    "f1": ("F1", "f1Score", "num3"),
    "log_loss": ("Log-loss", "logLoss", "num3"),
    "brier": ("Brier score", "brier", "num3"),
    "ece": ("Expected calibration error (ECE)", "ece", "num3"),
    "ece_bins": ("Probability bins behind the ECE", "eceBins", "int"),
    "threshold": ("Decision threshold (max F1)", "threshold", "num3"),
    "base_rate": ("Positive rate in the test rows", "baseRate", "pct"),
    "rows": ("Test rows", "rows", "int"),
    "positives": ("Positives in the test rows", "positives", "int"),
    "inner_validation_roc_auc": ("ROC-AUC, inner validation", "innerValidationAuc", "num3"),
    "inner_validation_f1": ("F1, inner validation", "innerValidationF1", "num3"),
    "mae": ("Mean absolute error", "mae", "num2"),
    "rmse": ("Root mean squared error", "rmse", "num2"),
    "r2": ("R²", "r2", "num3"),
    "baseline_mae": ("MAE of predicting the mean", "baselineMae", "num2"),
    "mae_skill": ("Skill over the mean (1 - MAE / baseline)", "maeSkill", "num3"),
    "naive_base_rate": ("Naive baseline: the base rate", "naiveBaseRate", "pct"),
    "naive_brier": ("Brier of the base rate", "naiveBrier", "num3"),
    "brier_skill": ("Skill over the base rate (1 - Brier / naive)", "brierSkill", "num3"),
    "naive_log_loss": ("Log-loss of the base rate", "naiveLogLoss", "num3"),
    "log_loss_skill": ("Skill over the base rate (log-loss)", "logLossSkill", "num3"),
    "naive_last_score_mae": ("MAE of the last score", "naiveLastScoreMae", "num2"),
    "mae_skill_vs_last_score": ("Skill over the last score", "maeSkillVsLastScore", "num3"),
    "naive_linear_trend_mae": ("MAE of the account's own trend", "naiveLinearTrendMae", "num2"),
    "mae_skill_vs_linear_trend": ("Skill over the trend", "maeSkillVsLinearTrend", "num3"),
    "interval_coverage": ("Share inside the p10-p90 interval", "intervalCoverage", "pct"),
    "interval_coverage_censoring_aware": (
        "Share inside the p10-p90 interval, censoring-aware",
        "intervalCoverageCensoringAware",
        "pct",
    ),
    "c_index": ("Concordance (C-index)", "cIndex", "num3"),
    "median_absolute_error_days": (
        "Median absolute error (days)",
        "medianAbsoluteErrorDays",
        "num1",
    ),
    "events": ("Closed (observed) in the test rows", "events", "int"),
    "censored_rate": ("Still open (censored) in the test rows", "censoredRate", "pct"),
}
# The few shown in the registry listing, by prediction family.
LIST_METRICS = ("roc_auc", "ece", "f1", "mae", "r2", "c_index")
LIST_LABELS = {
    "roc_auc": "ROC-AUC",
    "ece": "ECE",
    "f1": "F1",
    "mae": "MAE",
    "r2": "R²",
    "c_index": "C-index",
}
TOP_FEATURES = 15


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def metric_rows(version: ModelVersion) -> list[dict[str, Any]]:
    """Every numeric stored metric: key, label, API name, value and how to format it."""
    rows = []
    for key, value in (version.metrics or {}).items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        label, api, fmt = METRICS.get(key, (key.replace("_", " "), _camel(key), "num3"))
        rows.append({"key": key, "label": label, "api": api, "value": value, "format": fmt})
    order = list(METRICS)
    rows.sort(key=lambda r: order.index(r["key"]) if r["key"] in order else len(order))
    return rows


def data_size(version: ModelVersion) -> dict[str, Any]:
    summary = version.training_summary or {}
    model = summary.get("model") or {}
    return {
        "rows": model.get("rows", summary.get("rows")),
        "development": model.get("development_rows"),
        "test": model.get("test_rows"),
        "split": model.get("split"),
        "entities": summary.get("entities"),
        "features": len(version.feature_specs or []) or model.get("features"),
        "start": summary.get("dataStart"),
        "end": summary.get("dataEnd"),
        "evaluated_on": (version.metrics or {}).get("evaluated_on"),
    }


def _line(label: str, points: list[dict[str, float]], **extra: Any) -> dict[str, Any]:
    return {"label": label, "data": points, "showLine": True, "pointRadius": 0, **extra}


def _unit_scatter(
    curve: dict[str, Any], diagonal: str, x_title: str, y_title: str
) -> dict[str, Any]:
    """A curve in the unit square of probabilities, with the diagonal it is judged by."""
    return {
        "type": "scatter",
        "data": {
            "datasets": [
                curve,
                _line(diagonal, [{"x": 0, "y": 0}, {"x": 1, "y": 1}], borderDash=[6, 4]),
            ]
        },
        "options": {
            "scales": {
                axis: {"min": 0, "max": 1, "title": {"display": True, "text": title}}
                for axis, title in (("x", x_title), ("y", y_title))
            }
        },
        "format": {"x": "pct", "y": "pct"},
    }


def roc_chart(curves: Curves) -> dict[str, Any]:
    curve = [{"x": p["fpr"], "y": p["tpr"]} for p in curves.roc]
    return _unit_scatter(
        _line("ROC curve", curve, borderWidth=2),
        "Chance",
        x_title="False positive rate",
        y_title="True positive rate",
    )


def reliability_chart(curves: Curves) -> dict[str, Any]:
    observed = [{"x": b["predicted"], "y": b["observed"]} for b in curves.reliability]
    return _unit_scatter(
        _line("Observed rate per bin", observed, pointRadius=4, borderWidth=2),
        "Perfect calibration",
        x_title="Mean predicted probability",
        y_title="Observed rate",
    )


def importance_rows(version: ModelVersion) -> list[tuple[str, str, float]]:
    """(feature, group, share of mean |contribution|), largest first."""
    groups = {str(s.get("name")): str(s.get("group")) for s in version.feature_specs or []}
    shares = [
        (str(name), float(value))
        for name, value in (version.feature_importance or {}).items()
        if isinstance(value, int | float)
    ]
    shares.sort(key=lambda item: (-item[1], item[0]))
    return [(name, groups.get(name, "other"), share) for name, share in shares]


def importance_chart(rows: list[tuple[str, str, float]]) -> dict[str, Any]:
    top = rows[:TOP_FEATURES]
    return {
        "type": "bar",
        "data": {
            "labels": [name for name, _, _ in top],
            "datasets": [
                {"label": "Share of importance", "data": [round(s, 4) for _, _, s in top]}
            ],
        },
        "options": {"indexAxis": "y", "plugins": {"legend": {"display": False}}},
        "format": {"x": "pct"},
    }


def accuracy_chart(points: list[AccuracyPoint]) -> dict[str, Any]:
    labels = [p.week_end.date().isoformat() for p in points]
    datasets: list[dict[str, Any]] = [
        {"label": "Accuracy", "data": [round(p.accuracy, 4) for p in points]}
    ]
    if any(p.mean_predicted is not None for p in points):
        datasets += [
            {
                "label": "Mean predicted probability",
                "data": [
                    None if p.mean_predicted is None else round(p.mean_predicted, 4) for p in points
                ],
                "borderDash": [6, 4],
            },
            {
                "label": "Observed rate",
                "data": [
                    None if p.observed_rate is None else round(p.observed_rate, 4) for p in points
                ],
            },
        ]
    return {
        "type": "line",
        "data": {"labels": labels, "datasets": datasets},
        "options": {"scales": {"y": {"min": 0, "max": 1}}},
        "format": {"y": "pct"},
    }
