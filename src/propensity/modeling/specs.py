"""Feature declarations: what a column is (kind), which explanation group it belongs to, and
inference of both for arbitrary imported files."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from propensity.errors import InvalidInput

# A string column counts as numeric/datetime when at least this share of its non-missing values
# parses as such; a few typos ("n/a", " ") should not turn a numeric column into 5,000 categories.
PARSE_SHARE = 0.95
# Pairs of strings read as booleans (lower-cased). Anything else stays categorical.
_BOOLEAN_WORDS = {
    frozenset({"yes", "no"}),
    frozenset({"true", "false"}),
    frozenset({"y", "n"}),
    frozenset({"t", "f"}),
}
TRUE_WORDS = frozenset({"yes", "true", "y", "t", "1"})
FALSE_WORDS = frozenset({"no", "false", "n", "f", "0"})


class FeatureKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"


class FeatureGroup(StrEnum):
    DEMOGRAPHIC = "demographic"
    BEHAVIORAL = "behavioral"
    TEMPORAL = "temporal"
    ENGAGEMENT = "engagement"


@dataclass(frozen=True, kw_only=True)
class FeatureSpec:
    """One model input. `name` is the column in the frames given to training and scoring."""

    name: str
    kind: FeatureKind
    group: FeatureGroup
    description: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "group": self.group.value,
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> FeatureSpec:
        return cls(
            name=data["name"],
            kind=FeatureKind(data["kind"]),
            group=FeatureGroup(data["group"]),
            description=data.get("description", ""),
        )


def validate_specs(features: Collection[FeatureSpec]) -> None:
    if not features:
        raise InvalidInput("At least one feature is needed to train a model.")
    names = [f.name for f in features]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InvalidInput(
            f"Feature names must be unique; repeated: {', '.join(duplicated)}.",
            details={"duplicated": duplicated},
        )


def infer_feature_specs(
    frame: pd.DataFrame,
    *,
    default_group: FeatureGroup = FeatureGroup.DEMOGRAPHIC,
    groups: Mapping[str, FeatureGroup] | None = None,
    exclude: Collection[str] = (),
) -> list[FeatureSpec]:
    """Declare every usable column of an imported file as a feature.

    Datetime columns go to the TEMPORAL group, everything else to `default_group` unless `groups`
    names it. Identifier-like columns (a distinct non-numeric string on every row) are skipped:
    they cannot generalise and would only add noise to the explanations.
    """
    groups = groups or {}
    specs: list[FeatureSpec] = []
    for name in frame.columns:
        column = str(name)
        if column in exclude:
            continue
        kind = infer_kind(frame[name])
        if kind is None:
            continue
        group = groups.get(
            column, FeatureGroup.TEMPORAL if kind is FeatureKind.DATETIME else default_group
        )
        specs.append(
            FeatureSpec(
                name=column,
                kind=kind,
                group=group,
                description=f"Imported column '{column}' ({kind.value}).",
            )
        )
    return specs


def infer_kind(series: pd.Series) -> FeatureKind | None:
    """The kind a column should be modelled as, or None for identifier-like columns."""
    if pd.api.types.is_bool_dtype(series):
        return FeatureKind.BOOLEAN
    if pd.api.types.is_datetime64_any_dtype(series):
        return FeatureKind.DATETIME
    if isinstance(series.dtype, pd.CategoricalDtype):
        return FeatureKind.CATEGORICAL
    if pd.api.types.is_numeric_dtype(series):
        values = series.dropna().unique()
        if len(values) and set(np.asarray(values, dtype=float).tolist()) <= {0.0, 1.0}:
            return FeatureKind.BOOLEAN
        return FeatureKind.NUMERIC
    # A blank cell is a missing value, not a word: CSV readers keep "" and a numeric column
    # with 9% blanks (credit_data's Income) must not become 400 one-hot categories.
    text = series.dropna().astype(str).str.strip()
    text = text[text != ""]
    present = text
    if present.empty:
        return FeatureKind.NUMERIC
    lowered = frozenset(text.str.lower().unique().tolist())
    if lowered in _BOOLEAN_WORDS:
        return FeatureKind.BOOLEAN
    if pd.to_numeric(text, errors="coerce").notna().mean() >= PARSE_SHARE:
        return FeatureKind.NUMERIC
    if _parses_as_dates(text):
        return FeatureKind.DATETIME
    if len(present) > 50 and text.nunique() == len(present):
        return None
    return FeatureKind.CATEGORICAL


def _parses_as_dates(text: pd.Series) -> bool:
    # Require a digit and a separator so words like "March" or codes like "A1" are not dates.
    if not text.str.contains(r"\d{1,4}[-/.]\d{1,2}", regex=True).all():
        return False
    parsed = pd.to_datetime(text, errors="coerce", utc=True, format="mixed")
    return bool(parsed.notna().mean() >= PARSE_SHARE)
