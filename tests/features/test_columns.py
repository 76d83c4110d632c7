"""The entity columns (features/columns.py) and how each JSON attribute is read from its raw
values: the same plan and values as when pandas inferred a dtype per attribute, and the same
values for one row alone as for that row in the whole table."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from propensity.features.attributes import Rows, _attribute_reading, add_column_features
from propensity.features.attributes import plan_columns as plan_of
from propensity.features.columns import Columns, missing, object_array
from propensity.features.definitions import FeatureSet
from propensity.features.loading import Entities, _attribute_columns
from propensity.features.policy import LEAD_COLUMNS, ColumnPolicy
from propensity.features.times import to_us
from propensity.features.windows import NO_END, US_PER_DAY

T = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
ROWS = [
    '{"n": 1, "n_gap": 1, "f": 1.5, "b": true, "b_gap": true, "mixed": 1, "s": "x", '
    '"d": "2024-01-02", "nest": [1, 2], "null": null, "some": "a", "size": 30}',
    '{"n": 2, "f": 2, "b": false, "b_gap": null, "mixed": "y", "s": "y", '
    '"d": "2024-01-03T12:00:00Z", "nest": {"k": 1}, "null": null, "size": "51-200"}',
    '{"s": null, "n": 3, "n_gap": 3, "f": null, "b": true, "mixed": 2.5, '
    '"d": "2024-01-04T00:00:00+02:00", "null": null, "size": 2000.0}',
    "null",  # a JSON null: no attribute
    "[1, 2]",  # not an object: no attribute
    None,  # SQL NULL
]
# How each attribute is read over all rows: its JSON values decide, whatever pandas would have
# inferred (int with a gap -> float64, all bool -> bool, text -> str).
READINGS = {
    "b": "bool",
    "b_gap": "bool",
    "d": "date",
    "f": "number",
    "mixed": "text",
    "n": "number",
    "n_gap": "number",
    "nest": "text",
    "s": "text",
    "size": "text",
    "some": "text",
}
NAN = math.nan
# The features of the rows above, as the DataFrame columns gave them.
VALUES: dict[str, list[Any]] = {
    "b": [1.0, 0.0, 1.0, NAN, NAN, NAN],
    "b_gap": [1.0, NAN, NAN, NAN, NAN, NAN],
    "f": [1.5, 2.0, NAN, NAN, NAN, NAN],
    "mixed": ["1", "y", "2.5", None, None, None],
    "n": [1.0, 2.0, 3.0, NAN, NAN, NAN],
    "n_gap": [1.0, NAN, 3.0, NAN, NAN, NAN],
    "nest": ["[1, 2]", "{'k': 1}", None, None, None, None],
    "s": ["x", "y", None, None, None, None],
    "size": ["30", "51-200", "2000.0", None, None, None],
    "some": ["a", None, None, None, None, None],
}


def _days_since(text: str) -> float:
    return (int(to_us([T], fill=0)[0]) - int(to_us([text], fill=0)[0])) / US_PER_DAY


def entities_of(texts: list[str | None]) -> Entities:
    n = len(texts)
    typed = {name: object_array([None] * n, n) for name in LEAD_COLUMNS}
    return Entities(
        subject="lead",
        kind=None,
        ids=np.arange(1, n + 1, dtype=np.int64),
        external_ids=object_array([f"l{i}" for i in range(n)], n),
        created=np.zeros(n, dtype=np.int64),
        ended=np.full(n, NO_END, dtype=np.int64),
        columns=Columns(typed, length=n),
        attributes=_attribute_columns(texts),
    )


def features_of(entities: Entities, plan: Any) -> FeatureSet:
    n = len(entities)
    rows = Rows(code=np.arange(n, dtype=np.int64), t=np.full(n, to_us([T], fill=0)[0]))
    out = FeatureSet(n)
    add_column_features(out, entities, rows, policy=ColumnPolicy(), point_in_time=False, plan=plan)
    return out


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types; NaN equals NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def test_attributes_are_the_raw_json_values_of_every_key_in_first_seen_order() -> None:
    attributes = _attribute_columns(ROWS)
    assert len(attributes) == len(ROWS)
    assert attributes.names[:4] == ("n", "n_gap", "f", "b")
    assert set(attributes.names) == {*READINGS, "null"}
    # No type inference: an int with a missing row stays int, a gap is None.
    assert attributes["n_gap"].tolist() == [1, None, 3, None, None, None]
    assert [type(v) for v in attributes["n_gap"].tolist()[:3]] == [int, type(None), int]
    assert attributes["nest"].tolist()[:2] == [[1, 2], {"k": 1}]
    assert attributes["nest"].dtype == object and attributes["nest"].shape == (6,)
    assert _attribute_columns([]).names == () and len(_attribute_columns(["null", "5"])) == 2


def test_each_reading_and_value_whole_table_and_one_row_alike() -> None:
    whole = entities_of(ROWS)
    plan = plan_of(whole, policy=ColumnPolicy(), point_in_time=False)
    assert dict(plan.attributes) == READINGS  # "null" is never set: no feature
    assert plan.typed == ()
    features = features_of(whole, plan)
    expected = {
        **VALUES,
        "days_since_d": [
            _days_since("2024-01-02"),
            _days_since("2024-01-03T12:00:00Z"),
            _days_since("2024-01-04T00:00:00+02:00"),
            NAN,
            NAN,
            NAN,
        ],
    }
    assert {d.name for d in features.definitions} == set(expected)
    for name, values in expected.items():
        got = np.asarray(features.get(name)).tolist()
        assert all(map(same, got, values)), (name, got, values)
        numeric = not isinstance(values[0], str)
        assert np.asarray(features.get(name)).dtype == (np.float64 if numeric else object)
    # One row alone (the online build), with the whole table's plan: the same values.
    for i, text in enumerate(ROWS):
        alone = features_of(entities_of([text]), plan)
        for name, values in expected.items():
            assert same(np.asarray(alone.get(name)).tolist()[0], values[i]), (name, i)


@pytest.mark.parametrize(
    ("values", "reading"),
    [
        ([1, 2, None], "number"),
        ([1, 2.5, float("nan")], "number"),
        ([2**64, 1], "number"),
        ([True, False], "bool"),
        ([True, None, float("nan")], "bool"),
        ([1, True], "text"),
        ([None, None], None),
        ([float("nan")], None),
        (["2024-01-02"] * 19 + ["soon"], "date"),  # 95% dates
        (["2024-01-02"] * 18 + ["soon"] * 2, "text"),
        ([f"id-{i}" for i in range(51)], None),  # a distinct text on every row: identifier
        ([f"id-{i}" for i in range(50)], "text"),
        ([f"id-{i % 40}" for i in range(60)], "text"),
    ],
)
def test_attribute_reading(values: list[Any], reading: str | None) -> None:
    assert _attribute_reading(object_array(values, len(values))) == reading


def test_a_number_attribute_reads_as_pandas_to_numeric() -> None:
    whole = entities_of(['{"x": 9007199254740993}', '{"x": 18446744073709551616}', "{}"])
    plan = plan_of(whole, policy=ColumnPolicy(), point_in_time=False)
    assert plan.attributes == (("x", "number"),)
    got = np.asarray(features_of(whole, plan).get("x"))
    assert got[:2].tolist() == [9007199254740992.0, 18446744073709551616.0]
    assert math.isnan(got[2])


def test_columns_are_read_only_named_arrays_of_one_length() -> None:
    times = np.array([1, 2], dtype=np.int64)
    columns = Columns({"a": object_array(["x", None], 2), "t": times}, length=2)
    assert columns.names == ("a", "t") and len(columns) == 2
    assert "a" in columns and "b" not in columns
    assert columns["t"].dtype == np.int64
    with pytest.raises(ValueError, match="read-only"):
        columns["t"][0] = 5
    times[0] = 7  # a read-only view: the caller's own array stays writable
    assert missing(columns["a"]).tolist() == [False, True]
    assert missing(object_array([float("nan"), 0, "", False], 4)).tolist() == [
        True,
        False,
        False,
        False,
    ]
    with pytest.raises(ValueError, match="shape"):
        Columns({"a": np.zeros(3)}, length=2)
    assert len(Columns({}, length=4)) == 4
