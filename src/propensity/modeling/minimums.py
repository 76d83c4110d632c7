"""The least data a model is trained on. Below it training raises InsufficientData (a state the
API reports), never a silent toy model.

Binary tasks: at least MIN_ROWS labelled rows and MIN_PER_CLASS of each class. With a 20% test
split and 5 inner folds, 30 examples of the rarer class leave about 6 in the test split and 5 in
each inner validation fold: the fewest with which a ROC-AUC or a calibration step means anything
(Hanley and McNeil's standard error of an AUC near 0.8 with 6 positives is already about 0.1).
Fewer, and the selection, the calibration and the reported metrics would be noise. After the
test split is cut, each class also needs MIN_DEVELOPMENT_PER_CLASS development rows (a split by
time can leave fewer when one class is concentrated in the newest rows).
Time to event: at least MIN_ROWS rows and MIN_EVENTS observed events (censored rows only bound
the answer from below, so they cannot replace events), MIN_DEVELOPMENT_PER_CLASS of them outside
the test split.
Regression: at least MIN_ROWS rows with a target, and a target that varies.
"""

from __future__ import annotations

import numpy as np

from propensity.errors import InsufficientData

MIN_ROWS = 100
MIN_PER_CLASS = 30
MIN_EVENTS = 30
MIN_DEVELOPMENT_PER_CLASS = 20


def _require(what: str, needs: list[tuple[int, int, str]], *, details: dict[str, int]) -> None:
    """Raises InsufficientData naming every (count, minimum, noun) that falls short at once, so
    one answer says all that is missing."""
    shortfalls = [
        f"{count} {noun} (need at least {minimum})"
        for count, minimum, noun in needs
        if count < minimum
    ]
    if shortfalls:
        raise InsufficientData(f"{what}: " + "; ".join(shortfalls) + ".", details=details)


def check_binary(labels: np.ndarray) -> None:
    rows = len(labels)
    positives = int(np.sum(labels == 1))
    negatives = rows - positives
    _require(
        "Not enough labelled data to train",
        [
            (rows, MIN_ROWS, "labelled rows"),
            (positives, MIN_PER_CLASS, "positive examples"),
            (negatives, MIN_PER_CLASS, "negative examples"),
        ],
        details={
            "rows": rows,
            "positives": positives,
            "negatives": negatives,
            "min_rows": MIN_ROWS,
            "min_per_class": MIN_PER_CLASS,
        },
    )


def check_development(labels: np.ndarray, *, split: str) -> None:
    """After the test split is cut, each class still needs MIN_DEVELOPMENT_PER_CLASS rows so that
    every inner fold trains on both classes; a time split can leave too few (e.g. when all
    positives are recent)."""
    positives = int(np.sum(labels == 1))
    negatives = len(labels) - positives
    if min(positives, negatives) < MIN_DEVELOPMENT_PER_CLASS:
        raise InsufficientData(
            f"After holding out the test split ({split}), the training rows have {positives} "
            f"positive and {negatives} negative examples; each class needs at least "
            f"{MIN_DEVELOPMENT_PER_CLASS}.",
            details={
                "development_positives": positives,
                "development_negatives": negatives,
                "min_development_per_class": MIN_DEVELOPMENT_PER_CLASS,
            },
        )


def check_survival(observed: np.ndarray) -> None:
    rows = len(observed)
    events = int(np.sum(observed))
    _require(
        "Not enough data to train a time-to-event model",
        [(rows, MIN_ROWS, "rows"), (events, MIN_EVENTS, "observed events")],
        details={"rows": rows, "events": events, "min_rows": MIN_ROWS, "min_events": MIN_EVENTS},
    )


def check_development_events(observed: np.ndarray, *, split: str) -> None:
    events = int(np.sum(observed))
    if events < MIN_DEVELOPMENT_PER_CLASS:
        raise InsufficientData(
            f"After holding out the test split ({split}), the training rows have {events} "
            f"observed events; at least {MIN_DEVELOPMENT_PER_CLASS} are needed.",
            details={
                "development_events": events,
                "min_development_events": MIN_DEVELOPMENT_PER_CLASS,
            },
        )


def check_regression(targets: np.ndarray) -> None:
    rows = len(targets)
    distinct = len(np.unique(targets))
    if rows < MIN_ROWS or distinct < 2:
        need = f"need at least {MIN_ROWS} rows with a target that varies"
        raise InsufficientData(
            f"Not enough data to train a regression model: {rows} rows with a target, "
            f"{distinct} distinct values ({need}).",
            details={"rows": rows, "distinct_targets": distinct, "min_rows": MIN_ROWS},
        )
