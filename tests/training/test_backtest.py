"""`propensity backtest` on the real Telco file: order kept, ids carried, metrics printed."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from propensity.cli import app
from propensity.cli_commands import register
from propensity.errors import InvalidInput
from propensity.training.backtest import find_id_column, run_backtest

TELCO = Path(__file__).resolve().parents[3] / "shared" / "data" / "telco_churn.csv"
pytestmark = pytest.mark.skipif(not TELCO.exists(), reason=f"{TELCO} not found")


@pytest.fixture(scope="module")
def telco() -> pd.DataFrame:
    return pd.read_csv(TELCO).sample(frac=1.0, random_state=3).reset_index(drop=True)


def test_scores_every_test_row_in_order_without_labels(telco: pd.DataFrame) -> None:
    train, test = telco.iloc[:3000], telco.iloc[3000:3600].drop(columns=["churn"])
    result = run_backtest(train=train, test=test, label="churn", positive="Yes", seed=1)
    assert result.id_column == "customer_id"
    assert list(result.predictions["customer_id"]) == list(test["customer_id"])
    assert result.predictions["probability"].between(0, 1).all()
    assert result.test_metrics is None
    assert result.model.selection["reason"]


def test_reports_test_metrics_when_the_test_file_has_labels(telco: pd.DataFrame) -> None:
    train, test = telco.iloc[:3000], telco.iloc[3000:4500]
    result = run_backtest(train=train, test=test, label="churn", positive="Yes", seed=1)
    assert result.test_metrics is not None
    assert result.test_metrics["rows"] == 1500
    assert result.test_metrics["roc_auc"] > 0.8
    # The id column is not used as a feature.
    assert "customer_id" not in {f.name for f in result.model.features}


def test_a_missing_label_column_is_a_clear_error(telco: pd.DataFrame) -> None:
    with pytest.raises(InvalidInput, match="no column 'outcome'"):
        run_backtest(train=telco.iloc[:500], test=telco.iloc[500:600], label="outcome")


def test_id_column_detection() -> None:
    assert find_id_column(pd.DataFrame({"Account_ID": ["a", "b"], "x": [1, 2]})) == "Account_ID"
    assert find_id_column(pd.DataFrame({"x": [1, 1], "plan_id": [1, 1]})) is None


def test_cli_writes_the_predictions_file_and_prints_metrics(
    telco: pd.DataFrame, tmp_path: Path
) -> None:
    train_path, test_path, out = tmp_path / "train.csv", tmp_path / "test.csv", tmp_path / "p.csv"
    telco.iloc[:2500].to_csv(train_path, index=False)
    telco.iloc[2500:3000].to_csv(test_path, index=False)
    register(app)
    result = CliRunner().invoke(
        app,
        [
            "backtest",
            "--train",
            str(train_path),
            "--test",
            str(test_path),
            "--label",
            "churn",
            "--positive",
            "Yes",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout[result.stdout.index("{") :])
    assert printed["testMetrics"]["rows"] == 500
    assert printed["model"] in {"xgboost", "catboost", "logistic", "blend"}
    written = pd.read_csv(out)
    assert list(written.columns) == ["customer_id", "probability"]
    assert list(written["customer_id"]) == list(telco.iloc[2500:3000]["customer_id"])


def test_the_whole_training_file_trains_the_model(telco: pd.DataFrame) -> None:
    """The test file is the evaluation: no further holdout is cut from the training file."""
    train, test = telco.iloc[:1500], telco.iloc[1500:1800]
    result = run_backtest(train=train, test=test, label="churn", positive="Yes", seed=1)
    assert result.model.training["development_rows"] == 1500
    assert result.model.training["test_rows"] == 0
    assert "inner validation" in str(result.model.metrics["evaluated_on"])
    assert result.test_metrics is not None and result.test_metrics["rows"] == 300
