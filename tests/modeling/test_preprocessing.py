"""The design matrix of a few rows (Preprocessor._small_matrix) has exactly the cells the
many-row path gives the same rows: numbers, booleans, times, levels, rare and unseen
categories, missing values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from propensity.modeling import infer_feature_specs
from propensity.modeling.encoding import SMALL_BATCH
from propensity.modeling.preprocessing import Preprocessor


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "amount": rng.normal(size=n),
            "count": rng.integers(0, 9, n),
            "active": rng.random(n) < 0.5,
            "plan": rng.choice(["basic", "pro", "enterprise"], n),
            # "rare" falls below the level minimum: its rows share the "other" column.
            "region": rng.choice(
                ["north", "south", "east", "west", "rare"], n, p=[0.3] * 3 + [0.099, 0.001]
            ),
            "seen": pd.Timestamp("2025-01-01") - pd.to_timedelta(rng.integers(0, 300, n), unit="D"),
        }
    )
    for name in ("amount", "plan", "seen"):
        frame.loc[rng.random(n) < 0.2, name] = None
    return frame


def test_a_few_rows_get_the_cells_of_the_many_row_path() -> None:
    training = _frame(2000, seed=3)
    training.loc[[10, 20, 30], "region"] = "rare"
    preprocessor = Preprocessor.fit(training, infer_feature_specs(training))
    scoring = _frame(300, seed=4)
    # Values training never saw, and a row with every category missing.
    scoring.loc[0, "region"] = "atlantis"
    scoring.loc[1, "plan"] = "legacy"
    scoring.loc[2, ["plan", "region", "amount", "seen"]] = None
    assert len(scoring) > SMALL_BATCH
    whole = preprocessor.transform(scoring)
    assert np.nansum(whole) > 0
    for start, size in ((0, 1), (1, 1), (2, 1), (0, 3), (5, SMALL_BATCH), (250, 50)):
        part = scoring.iloc[start : start + size].reset_index(drop=True)
        few = preprocessor.transform(part)
        np.testing.assert_array_equal(few, whole[start : start + size])
    # The rows with the unseen, unknown and missing categories set their own columns.
    columns = preprocessor.columns
    assert whole[0, columns.index("region=__other__")] == 1.0
    # Every plan was common in training, so no "other" column: an unseen one sets none.
    plan_columns = [j for j, name in enumerate(columns) if name.startswith("plan=")]
    assert "plan=__other__" not in columns and whole[1, plan_columns].sum() == 0.0
    assert whole[2, columns.index("plan=__missing__")] == 1.0
