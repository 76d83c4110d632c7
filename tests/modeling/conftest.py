"""Real data and real models for the modeling tests: the Telco file and synthetic tables whose
true probabilities are known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from propensity.modeling import BinaryModel, FeatureSpec, infer_feature_specs, train_binary

TELCO = Path("/work/shared/data/telco_churn.csv")


def sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def mixed_frame(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Numeric, categorical (pandas string dtype), boolean and datetime columns with missing
    values, and the true log-odds of the label."""
    rng = np.random.default_rng(seed)
    usage = rng.gamma(2.0, 10.0, n)
    tickets = rng.poisson(2.0, n).astype(float)
    plan = rng.choice(["basic", "pro", "enterprise"], n, p=[0.5, 0.35, 0.15])
    region = rng.choice(["north", "south", "east", "west", "island"], n)
    autopay = rng.random(n) < 0.6
    signup = pd.Timestamp("2024-06-30") - pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    logit = (
        -0.5
        - 0.08 * (usage - 20)
        + 0.35 * (tickets - 2)
        + np.select([plan == "pro", plan == "enterprise"], [-0.6, -1.2], 0.0)
        - 0.7 * autopay
        - 0.002 * (pd.Timestamp("2024-06-30") - signup).days.to_numpy()
    )
    frame = pd.DataFrame(
        {
            "usage": usage,
            "tickets": tickets,
            "plan": pd.array(plan, dtype="string"),
            "region": region.astype(object),
            "autopay": autopay,
            "signup": signup,
        }
    )
    for column, share in (("usage", 0.1), ("tickets", 0.05), ("plan", 0.05), ("region", 0.1)):
        frame.loc[rng.random(n) < share, column] = None
    return frame, logit


def mixed_data(n: int = 1200, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    frame, logit = mixed_frame(n, seed)
    rng = np.random.default_rng(seed + 1000)
    labels = (rng.random(n) < sigmoid(logit)).astype(float)
    return frame, labels


@pytest.fixture(scope="session")
def mixed() -> tuple[pd.DataFrame, np.ndarray, list[FeatureSpec]]:
    frame, labels = mixed_data()
    return frame, labels, infer_feature_specs(frame)


@pytest.fixture(scope="session")
def mixed_models(
    mixed: tuple[pd.DataFrame, np.ndarray, list[FeatureSpec]],
) -> dict[str, BinaryModel]:
    frame, labels, specs = mixed
    return {
        family: train_binary(frame=frame, labels=labels, features=specs, family=family, seed=3)
        for family in ("xgboost", "catboost", "logistic", "blend", "auto")
    }


@pytest.fixture(scope="session")
def telco() -> tuple[pd.DataFrame, np.ndarray]:
    frame = pd.read_csv(TELCO)
    labels = (frame.pop("churn") == "Yes").to_numpy(dtype=float)
    return frame.drop(columns="customer_id"), labels
