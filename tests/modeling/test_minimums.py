"""Too little data is a state with numbers in it, not a crash or a toy model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from propensity.errors import InsufficientData
from propensity.modeling import (
    FeatureGroup,
    FeatureKind,
    FeatureSpec,
    train_binary,
    train_regression,
    train_survival,
)

SPECS = [FeatureSpec(name="x", kind=FeatureKind.NUMERIC, group=FeatureGroup.BEHAVIORAL)]


def test_too_few_positives_says_how_many() -> None:
    frame = pd.DataFrame({"x": np.arange(200.0)})
    labels = np.zeros(200)
    labels[:12] = 1
    with pytest.raises(InsufficientData) as caught:
        train_binary(frame=frame, labels=labels, features=SPECS)
    assert "12 positive examples (need at least 30)" in caught.value.message
    assert caught.value.details["positives"] == 12
    assert caught.value.details["min_per_class"] == 30


def test_too_few_rows_and_unlabelled_rows_do_not_count() -> None:
    frame = pd.DataFrame({"x": np.arange(150.0)})
    labels = np.r_[np.tile([0.0, 1.0], 40), np.full(70, np.nan)]
    with pytest.raises(InsufficientData) as caught:
        train_binary(frame=frame, labels=labels, features=SPECS)
    assert "80 labelled rows (need at least 100)" in caught.value.message


def test_survival_needs_observed_events() -> None:
    frame = pd.DataFrame({"x": np.arange(300.0)})
    observed = np.zeros(300, dtype=bool)
    observed[:25] = True
    with pytest.raises(InsufficientData) as caught:
        train_survival(
            frame=frame, durations_days=np.full(300, 10.0), observed=observed, features=SPECS
        )
    assert "25 observed events (need at least 30)" in caught.value.message


def test_regression_needs_rows() -> None:
    frame = pd.DataFrame({"x": np.arange(60.0)})
    with pytest.raises(InsufficientData) as caught:
        train_regression(frame=frame, targets=np.arange(60.0), features=SPECS)
    assert "60 rows" in caught.value.message and "at least 100" in caught.value.message


def test_time_split_leaving_too_few_training_positives_is_a_state() -> None:
    """All positives recent: the newest 20% (the test split) takes most of them."""
    frame = pd.DataFrame({"x": np.arange(600.0)})
    labels = np.zeros(600)
    labels[470:] = 1
    times = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(600), unit="h"))
    with pytest.raises(InsufficientData) as caught:
        train_binary(frame=frame, labels=labels, features=SPECS, times=times)
    assert "10 positive and 470 negative" in caught.value.message
    assert "at least 20" in caught.value.message
