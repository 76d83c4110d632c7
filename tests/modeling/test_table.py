"""A Table is read by the models exactly as the DataFrame of the same columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from propensity.modeling import BinaryModel, FeatureSpec, Table
from propensity.modeling.table import text_column
from tests.modeling.conftest import mixed_frame


def _table(frame: pd.DataFrame, *, text: tuple[str, ...]) -> Table:
    """The columns as the feature builder hands them over: numpy arrays, text as objects."""
    columns: dict[str, np.ndarray | pd.Series] = {}
    for name in frame.columns:
        series = frame[name]
        if name in text:
            columns[name] = text_column(series)
        elif name == "signup":
            columns[name] = series  # a pandas column stays one
        else:
            columns[name] = series.to_numpy()
    return Table(columns, len(frame), text=text)


@pytest.mark.parametrize("rows", [1, 7, 300])
def test_every_family_reads_a_table_as_its_frame(
    mixed_models: dict[str, BinaryModel],
    mixed: tuple[pd.DataFrame, np.ndarray, list[FeatureSpec]],
    rows: int,
) -> None:
    frame, _ = mixed_frame(rows, seed=rows)
    table = _table(frame, text=("plan", "region"))
    reference = table.to_frame()
    for family, model in mixed_models.items():
        np.testing.assert_array_equal(
            model.predict_proba(table), model.predict_proba(reference), err_msg=family
        )
        prepared, expected = model.prepare(table), model.prepare(reference)
        np.testing.assert_array_equal(prepared.x, expected.x, err_msg=family)
        explained = model.explain(prepared)
        np.testing.assert_allclose(
            explained.contributions.sum(axis=1) + explained.bias,
            model.margin(prepared),
            atol=1e-6,
            err_msg=family,
        )


def test_text_columns_hold_what_a_pandas_str_column_holds() -> None:
    values = ["a", None, 1.0, 2, True, float("nan"), pd.NA, " b "]
    as_text = text_column(np.asarray(values, dtype=object))
    as_pandas = pd.Series(values, dtype="str")
    assert [None if v is None else v for v in as_text.tolist()] == [
        None if pd.isna(v) else v for v in as_pandas.tolist()
    ]


def test_take_records_and_frame_keep_rows_and_order() -> None:
    table = Table(
        {"n": np.array([1.0, np.nan, 3.0]), "c": text_column(["x", None, "z"])},
        3,
        text=("c",),
    )
    picked = table.take(np.array([2, 0]))
    assert picked.columns == ["n", "c"]
    assert picked.records() == [[3.0, "z"], [1.0, "x"]]
    assert table.take(slice(1, 3)).records()[0][1] is None
    frame = table.to_frame()
    assert str(frame["c"].dtype) == "str" and pd.isna(frame["c"][1])
    with pytest.raises(ValueError, match="2 values for 3 rows"):
        Table({"n": np.zeros(2)}, 3)
