"""The pure checking layer: a DataFrame in, typed values or a list of row errors out."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from propensity.crm.contracts import ImportKind, spec_for
from propensity.crm.errors import MAX_REPORTED_ERRORS, ImportRejected
from propensity.crm.formats import SourceTable, read_stream
from propensity.crm.validation import ImportOptions, Prepared, validate


def check(
    kind: str, rows: list[dict[str, Any]] | pd.DataFrame, *, csv: bool = False, **options: Any
) -> Prepared:
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(rows)
    if csv:
        buffer = io.BytesIO(frame.to_csv(index=False).encode())
        table = read_stream(buffer, fmt="csv")
    else:
        table = SourceTable.from_frame(frame)
    return validate(spec_for(kind), table, ImportOptions(**options))


def problems(kind: str, rows: list[dict[str, Any]], **kw: Any) -> list[tuple[Any, ...]]:
    with pytest.raises(ImportRejected) as caught:
        check(kind, rows, **kw)
    return [(e.row, e.column, e.problem) for e in caught.value.errors]


def test_types_are_parsed_from_text() -> None:
    prepared = check(
        "customers",
        [
            {
                "customer_id": " c1 ",
                "arr": "1200.5",
                "device_count": "3",
                "affinity_card": "Yes",
                "renewal_date": "2025-03-01",
                "last_login_at": "2024-05-01T12:00:00+02:00",
                "created_at": "2024-05-01 08:30",
            }
        ],
        csv=True,
    )
    values = {name: column[0] for name, column in prepared.values.items()}
    assert values["customer_id"] == "c1"
    assert values["arr"] == 1200.5
    assert values["device_count"] == 3 and isinstance(values["device_count"], int)
    assert values["affinity_card"] is True
    assert values["renewal_date"] == date(2025, 3, 1)
    # Stored as naive UTC; offsets are converted.
    assert values["last_login_at"] == datetime(2024, 5, 1, 10, 0)
    assert values["created_at"] == datetime(2024, 5, 1, 8, 30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01", datetime(2024, 5, 1)),
        ("2024-05-01T10:11:12Z", datetime(2024, 5, 1, 10, 11, 12)),
        ("2024-05-01T10:11:12.5-05:00", datetime(2024, 5, 1, 15, 11, 12, 500000)),
        ("05/01/2024", datetime(2024, 5, 1)),
        ("2024/05/01", datetime(2024, 5, 1)),
        ("1 May 2024", datetime(2024, 5, 1)),
        ("May 1, 2024", datetime(2024, 5, 1)),
    ],
)
def test_common_timestamp_formats(text: str, expected: datetime) -> None:
    rows = [{"event_id": "e1", "customer_id": "c1", "type": "login", "occurred_at": text}]
    assert check("events", rows, csv=True).values["occurred_at"] == [expected]


def test_datetime_columns_of_a_frame_keep_their_instant() -> None:
    aware = pd.Series(pd.to_datetime(["2024-05-01T12:00:00+02:00"], utc=True))
    naive = pd.Series(pd.to_datetime(["2024-05-01T12:00:00"]))
    for series, hour in ((aware, 10), (naive, 12)):
        frame = pd.DataFrame({"customer_id": ["c1"], "type": ["x"], "occurred_at": series})
        assert check("events", frame).values["occurred_at"] == [datetime(2024, 5, 1, hour)]


def test_every_bad_cell_is_reported_with_row_column_and_problem() -> None:
    found = problems(
        "customers",
        [
            {"customer_id": "c1", "arr": "10", "kind": "account", "health_score": "50"},
            {"customer_id": "c2", "arr": "abc", "kind": "acount", "health_score": "150"},
            {"customer_id": "", "arr": "-5", "kind": "", "health_score": ""},
            {"customer_id": "c1", "arr": "", "kind": "", "health_score": ""},
        ],
        csv=True,
    )
    assert found == [
        (2, "arr", "not a number: 'abc'"),
        (2, "health_score", "must be between 0 and 100: '150'"),
        (2, "kind", "must be one of account, subscriber: 'acount'"),
        (3, "arr", "must not be negative: '-5'"),
        (3, "customer_id", "required value is missing"),
        (4, "customer_id", "duplicate customer_id 'c1' (first on row 1)"),
    ]


def test_enums_are_normalised() -> None:
    prepared = check(
        "customers",
        [{"customer_id": "a", "kind": "Account", "account_type": "prospect"}],
    )
    assert prepared.values["kind"] == ["account"]
    assert prepared.values["account_type"] == ["PROSPECT"]


def test_whole_numbers_and_booleans_are_checked() -> None:
    found = problems(
        "customers",
        [{"customer_id": "a", "device_count": "2.5", "affinity_card": "maybe"}],
        csv=True,
    )
    assert (1, "device_count", "not a whole number: '2.5'") in found
    assert (1, "affinity_card", "not a boolean (use true/false, yes/no or 1/0): 'maybe'") in found


def test_text_longer_than_the_column_is_an_error() -> None:
    found = problems("customers", [{"customer_id": "x" * 129}])
    assert found == [(1, "customer_id", "longer than 128 characters")]


def test_missing_required_columns_are_reported_for_the_file() -> None:
    assert problems("events", [{"type": "login"}]) == [
        (None, "customer_id", "events need a customer_id or lead_id column"),
        (None, "occurred_at", "required column is missing"),
    ]


def test_events_need_exactly_one_subject() -> None:
    rows = [
        {"customer_id": "c1", "lead_id": None, "type": "t", "occurred_at": "2024-01-01"},
        {"customer_id": None, "lead_id": None, "type": "t", "occurred_at": "2024-01-01"},
        {"customer_id": "c1", "lead_id": "l1", "type": "t", "occurred_at": "2024-01-01"},
        {"customer_id": "c1", "lead_id": None, "type": "", "occurred_at": ""},
    ]
    assert problems("events", rows) == [
        (2, "customer_id", "needs a customer_id or lead_id"),
        (3, "lead_id", "has both customer_id and lead_id; an event belongs to one of them"),
        (4, "occurred_at", "required value is missing"),
        (4, "type", "required value is missing"),
    ]


def test_health_checks_scores_and_duplicate_days() -> None:
    rows = [
        {"customer_id": "a", "snapshot_date": "2024-01-01", "overall_score": 70},
        {"customer_id": "a", "snapshot_date": "2024-01-01", "overall_score": 71},
        {"customer_id": "a", "snapshot_date": "2024-01-02", "overall_score": 101},
        {"customer_id": "a", "snapshot_date": "2024-01-03", "overall_score": 50, "extra": 1},
    ]
    found = problems("health", rows)
    assert found[0] == (None, "extra", found[0][2])
    assert "unknown column" in found[0][2]
    rows[3].pop("extra")
    assert problems("health", rows) == [
        (2, "customer_id", "duplicate (customer_id, snapshot_date) a, 2024-01-01 (first on row 1)"),
        (3, "overall_score", "must be between 0 and 100: '101'"),
    ]


def test_mapping_renames_and_drops_columns() -> None:
    prepared = check(
        "customers",
        [{"Customer ID": "a", "Plan": "pro", "Notes": "ignore me", "Seats": 4}],
        mapping={"Customer ID": "customer_id", "Plan": "plan", "Notes": None, "Seats": "seats"},
    )
    assert prepared.values["customer_id"] == ["a"]
    assert prepared.values["plan"] == ["pro"]
    assert prepared.extras == [{"seats": 4}]


def test_mapping_errors_name_the_column() -> None:
    found = problems("customers", [{"id": "a"}], mapping={"nope": "customer_id"})
    assert (None, "nope", "the mapping names this column; the data has none") in found
    found = problems("customers", [{"id": "a", "customer_id": "b"}], mapping={"id": "customer_id"})
    assert found == [(None, "customer_id", "after mapping, two columns have this name")]


def test_label_with_a_positive_value() -> None:
    prepared = check(
        "customers",
        [
            {"customer_id": "a", "churn": "Yes"},
            {"customer_id": "b", "churn": "no"},
            {"customer_id": "c", "churn": "YES"},
            {"customer_id": "d", "churn": ""},
        ],
        csv=True,
        label="churn",
        positive="yes",
    )
    assert prepared.values["churned"] == [True, False, True, None]
    assert prepared.extras is None  # the label column is not an attribute


def test_label_without_a_positive_value_accepts_booleans_only() -> None:
    prepared = check(
        "leads",
        [{"lead_id": str(i), "won": v} for i, v in enumerate(["true", "0", "YES", "n"])],
        csv=True,
        label="won",
    )
    assert prepared.values["converted"] == [True, False, True, False]
    found = problems("leads", [{"lead_id": "a", "won": "maybe"}], label="won")
    assert found[0][:2] == (1, "converted")
    assert "not a recognisable outcome" in found[0][2]


def test_label_problems() -> None:
    found = problems("events", [{"customer_id": "a"}], label="x")
    assert (None, "x", "events have no outcome label") in found
    assert problems("customers", [{"customer_id": "a"}], label="churn")[0] == (
        None,
        "churn",
        "label column not found in the data",
    )


def test_csv_attribute_types_are_inferred_per_column() -> None:
    prepared = check(
        "customers",
        [
            {"customer_id": "a", "n": "1", "x": "1.5", "flag": "true", "zip": "02134", "s": "hi"},
            {"customer_id": "b", "n": "", "x": "2", "flag": "False", "zip": "10001", "s": "3"},
        ],
        csv=True,
    )
    assert prepared.extras == [
        {"n": 1, "x": 1.5, "flag": True, "zip": "02134", "s": "hi"},
        {"x": 2.0, "flag": False, "zip": "10001", "s": "3"},
    ]


def test_frame_attribute_values_become_json_types() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "i": pd.array([1, None], dtype="Int64"),
            "f": [np.float32(0.5), np.nan],
            "t": pd.to_datetime(["2024-01-01T00:00:00Z", None], utc=True),
            "o": [{"k": 1}, None],
        }
    )
    prepared = check("customers", frame)
    assert prepared.extras == [
        {"i": 1, "f": 0.5, "t": "2024-01-01T00:00:00Z", "o": {"k": 1}},
        {},
    ]
    assert type(prepared.extras[0]["i"]) is int


def test_nested_properties_merge_with_flat_columns() -> None:
    rows = [
        {"customer_id": "a", "type": "t", "occurred_at": "2024-01-01", "properties": {"a": 1}},
        {"customer_id": "a", "type": "t", "occurred_at": "2024-01-02", "properties": "{}", "b": 2},
        {"customer_id": "a", "type": "t", "occurred_at": "2024-01-03", "properties": "[1]"},
    ]
    assert problems("events", rows) == [(3, "properties", "not a JSON object")]
    prepared = check("events", rows[:2])
    assert prepared.extras == [{"a": 1}, {"b": 2.0}]


def test_events_without_ids_get_content_keys_and_exact_repeats_collapse() -> None:
    row = {"customer_id": "a", "type": "login", "occurred_at": "2024-01-01T10:00:00Z"}
    later = {**row, "occurred_at": "2024-01-01T11:00:00Z"}
    prepared = check("events", [row, later, dict(row)])
    assert prepared.duplicates == 1
    assert list(prepared.rows) == [1, 2]
    keys = prepared.event_keys
    assert keys is not None and len(set(keys)) == 2
    assert all(k.startswith("#") for k in keys)
    # The same content always gets the same key; an explicit id is used as is.
    assert check("events", [row]).event_keys == keys[:1]
    assert check("events", [{**row, "event_id": "E-1"}]).event_keys == ["E-1"]


def test_explicit_duplicate_event_ids_are_errors() -> None:
    row = {"event_id": "e", "customer_id": "a", "type": "t", "occurred_at": "2024-01-01"}
    assert problems("events", [row, row]) == [
        (2, "event_id", "duplicate event_id 'e' (first on row 1)")
    ]


def test_default_customer_kind() -> None:
    prepared = check("customers", [{"customer_id": "a"}], customer_kind="account")
    assert "kind" not in prepared.values
    assert prepared.defaults == {"kind": "account"}
    prepared = check(
        "customers",
        [{"customer_id": "a", "kind": ""}, {"customer_id": "b", "kind": "subscriber"}],
        customer_kind="account",
    )
    assert prepared.values["kind"] == ["account", "subscriber"]


def test_the_error_list_is_capped_but_counted() -> None:
    rows = [{"customer_id": str(i), "arr": "x"} for i in range(MAX_REPORTED_ERRORS + 500)]
    with pytest.raises(ImportRejected) as caught:
        check("customers", rows)
    assert len(caught.value.errors) == MAX_REPORTED_ERRORS
    assert caught.value.total_errors == MAX_REPORTED_ERRORS + 500
    assert caught.value.details["errorCount"] == MAX_REPORTED_ERRORS + 500


def test_jsonl_rows_are_numbered_by_line_and_bad_lines_reported() -> None:
    text = b'{"customer_id": "a"}\n\nnot json\n[1, 2]\n{"customer_id": "b", "arr": "x"}\n'
    table = read_stream(io.BytesIO(text), fmt="jsonl")
    assert list(table.rows) == [1, 5]
    with pytest.raises(ImportRejected) as caught:
        validate(spec_for(ImportKind.CUSTOMERS), table, ImportOptions())
    found = [(e.row, e.column, e.problem.split(":")[0]) for e in caught.value.errors]
    assert found == [
        (3, None, "not valid JSON"),
        (4, None, "each line must be one JSON object"),
        (5, "arr", "not a number"),
    ]


def test_csv_with_a_repeated_header_is_refused() -> None:
    with pytest.raises(ImportRejected) as caught:
        read_stream(io.BytesIO(b"customer_id,plan,plan\na,b,c\n"), fmt="csv")
    assert "plan" in caught.value.message


def test_empty_input_is_nothing_to_do() -> None:
    prepared = check("customers", pd.DataFrame())
    assert len(prepared) == 0 and prepared.total == 0
    header_only = read_stream(io.BytesIO(b"customer_id,plan\n"), fmt="csv")
    assert len(validate(spec_for("customers"), header_only, ImportOptions())) == 0


def test_a_naive_timestamp_is_utc() -> None:
    rows = [{"customer_id": "a", "type": "t", "occurred_at": "2024-06-01 12:00:00"}]
    stamp = check("events", rows, csv=True).values["occurred_at"][0]
    assert stamp.replace(tzinfo=UTC) == datetime(2024, 6, 1, 12, tzinfo=UTC)


def test_numeric_ids_read_as_floats_stay_whole() -> None:
    frame = pd.DataFrame({"customer_id": [101.0, np.nan, 7.0], "plan": ["a", "b", "c"]})
    with pytest.raises(ImportRejected) as caught:
        check("customers", frame)
    assert [(e.row, e.column) for e in caught.value.errors] == [(2, "customer_id")]
    assert check("customers", frame.dropna()).values["customer_id"] == ["101", "7"]
