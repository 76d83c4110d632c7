"""The mixture (cure) model of time to close: simulated leads of which a known share ever
closes, some closed lost and some left open for good (modeling/cure.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from propensity.modeling import (
    SurvivalModel,
    Table,
    infer_feature_specs,
    load_model,
    train_survival,
)
from propensity.modeling.cure_weights import closer_weights, start_weights
from propensity.modeling.table import text_column

LOST_SHARE = 0.7  # of the leads that never close, as in the simulator


@dataclass(frozen=True)
class Leads:
    frame: pd.DataFrame
    durations: np.ndarray  # days to the close, the loss or the end of the data
    closed: np.ndarray  # closed by the end of the data
    lost: np.ndarray  # lost by the end of the data (never closes)
    closes: np.ndarray  # the truth: closes at some time, seen or not
    close_days: np.ndarray  # the truth: when it closes, if it does
    incidence: np.ndarray  # the truth: P(closes)
    location: np.ndarray  # the truth: mean log days to close


def simulate(n: int, seed: int) -> Leads:
    """P(close) depends on `fit` and `source`, the days to close on `urgency` alone (log-normal,
    sigma 0.5, median 40 days); each lead is followed 20 to 300 days."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "fit": rng.normal(size=n),
            "urgency": rng.normal(size=n),
            "source": rng.choice(["web", "referral", "event"], n),
            "noise": rng.normal(size=n),
        }
    )
    incidence = expit(
        -0.5 + 1.5 * frame["fit"].to_numpy() + np.where(frame["source"] == "referral", 0.8, 0.0)
    )
    closes = rng.random(n) < incidence
    location = np.log(40) - 0.6 * frame["urgency"].to_numpy()
    close_days = np.exp(location + 0.5 * rng.normal(size=n))
    lost_days = np.exp(np.log(60) + 0.7 * rng.normal(size=n))
    gives_up = ~closes & (rng.random(n) < LOST_SHARE)
    follow_up = rng.uniform(20, 300, n)
    closed = closes & (close_days <= follow_up)
    lost = gives_up & (lost_days <= follow_up)
    durations = np.where(closed, close_days, np.where(lost, lost_days, follow_up))
    return Leads(frame, durations, closed, lost, closes, close_days, incidence, location)


def fit(leads: Leads, *, lost: np.ndarray | None) -> SurvivalModel:
    return train_survival(
        frame=leads.frame,
        durations_days=leads.durations,
        observed=leads.closed,
        lost=lost,
        features=infer_feature_specs(leads.frame),
        seed=0,
    )


@pytest.fixture(scope="module")
def leads() -> Leads:
    return simulate(6000, seed=7)


@pytest.fixture(scope="module")
def mixture(leads: Leads) -> SurvivalModel:
    return fit(leads, lost=leads.lost)


def test_the_interval_covers_80_percent_of_closings_including_unseen_ones(
    leads: Leads, mixture: SurvivalModel
) -> None:
    assert 0.25 < 1 - leads.closed.mean() - leads.lost.mean() < 0.4  # open at the end
    assert mixture.incidence is not None
    fresh = simulate(20_000, seed=8)
    low, high = mixture.predict_interval(fresh.frame)
    closes = fresh.closes
    truth = float(np.mean(((fresh.close_days >= low) & (fresh.close_days <= high))[closes]))
    assert 0.75 < truth < 0.85
    # The held-out estimate, which only sees what closed by the end, agrees with the truth.
    aware = mixture.metrics["interval_coverage_censoring_aware"]
    assert isinstance(aware, float) and abs(aware - truth) < 0.06
    assert mixture.metrics["interval_of"] == "time to the event, for the rows that will have it"
    # Each part recovers its own driver.
    median = mixture.predict_median(fresh.frame)
    assert np.corrcoef(np.log(median), fresh.location)[0, 1] > 0.95
    assert np.corrcoef(mixture.probability_event(fresh.frame), fresh.incidence)[0, 1] > 0.95
    # P(close within 40 days) = P(close) x P(within 40 | close), against what happens.
    within = mixture.probability_within(fresh.frame, 40.0)
    assert abs(within.mean() - np.mean(closes & (fresh.close_days <= 40))) < 0.02
    assert np.all(within <= mixture.probability_event(fresh.frame))


def test_one_aft_for_everyone_reads_lost_leads_as_slow_ones(
    leads: Leads, mixture: SurvivalModel
) -> None:
    plain = fit(leads, lost=None)
    assert plain.incidence is None
    fresh = simulate(5000, seed=9)
    plain_median = np.log(plain.predict_median(fresh.frame))
    mixture_median = np.log(mixture.predict_median(fresh.frame))
    # The plain model's median mixes "whether" into "when": it tracks P(close), not the time.
    assert np.corrcoef(plain_median, fresh.location)[0, 1] < 0.7
    assert np.corrcoef(mixture_median, fresh.location)[0, 1] > 0.95
    assert np.median(np.exp(plain_median)) > 2 * np.median(np.exp(mixture_median))


def test_lost_leads_are_not_at_risk_of_closing(leads: Leads, mixture: SurvivalModel) -> None:
    # A lost lead never closes: it is a 0 for P(close) and has no weight in the time to close.
    # So when the lost leads were lost barely moves the time to close (only through how long
    # a lead that never closes tends to stay open, cure_weights.py), whereas one AFT for
    # everyone reads each loss as "closes later than this".
    later = np.where(leads.lost, 3 * leads.durations + 30, leads.durations)
    moved = Leads(**{**leads.__dict__, "durations": later})
    probe = simulate(3000, seed=10).frame
    again = fit(moved, lost=moved.lost)
    ratio = again.predict_median(probe) / mixture.predict_median(probe)
    assert abs(float(np.median(ratio)) - 1) < 0.05
    plain, plain_moved = fit(leads, lost=None), fit(moved, lost=None)
    assert np.median(plain_moved.predict_median(probe) / plain.predict_median(probe)) > 1.2


def test_weights_without_covariates_count_the_expected_closers() -> None:
    rng = np.random.default_rng(3)
    n = 40_000
    closes = rng.random(n) < 0.4
    close_days = np.exp(np.log(30) + 0.6 * rng.normal(size=n))
    lost_days = np.exp(np.log(40) + 0.7 * rng.normal(size=n))
    gives_up = ~closes & (rng.random(n) < 0.5)
    follow_up = rng.uniform(5, 400, n)
    closed = closes & (close_days <= follow_up)
    lost = gives_up & (lost_days <= follow_up)
    durations = np.where(closed, close_days, np.where(lost, lost_days, follow_up))
    weights, staying, _ = start_weights(durations, closed, lost)
    assert np.all(weights[closed] == 1.0) and np.all(weights[lost] == 0.0)
    # Each open lead's chance of closing later adds up to how many of them do.
    still_open = ~closed & ~lost
    assert abs(weights[still_open].sum() / closes[still_open].sum() - 1) < 0.05
    # G: half of the leads that never close are lost, at a median of 40 days.
    assert abs(staying.at(np.array([40.0]))[0] - 0.75) < 0.03
    assert abs(staying.at(np.array([1000.0]))[0] - 0.5) < 0.03


def test_closer_weights_follow_bayes() -> None:
    incidence = np.array([0.5, 0.5, 0.5, 0.2])
    survival = np.array([1.0, 0.5, 0.0, 0.5])
    events = np.array([False, False, False, True])
    lost = np.array([False, False, False, False])
    weights = closer_weights(incidence, survival, events, lost)
    np.testing.assert_allclose(weights, [0.5, 0.25 / 0.75, 0.0, 1.0])
    # A lead that never closes is lost by now with probability 1 - G: an open one is then
    # more likely to be one that closes.
    staying = np.array([0.5, 0.5, 0.5, 0.5])
    np.testing.assert_allclose(
        closer_weights(incidence, survival, events, lost, staying)[:3], [2 / 3, 0.5, 0.0]
    )
    assert np.all(closer_weights(incidence, survival, events, ~events) == events)


def test_explanations_add_up_and_the_artifact_keeps_both_parts(
    leads: Leads, mixture: SurvivalModel
) -> None:
    rows = leads.frame.head(200)
    explanation = mixture.explain(rows)
    rebuilt = explanation.bias + explanation.contributions.sum(axis=1)
    assert np.max(np.abs(rebuilt - explanation.raw)) < 1e-9
    np.testing.assert_allclose(explanation.prediction, mixture.predict_median(rows))
    assert explanation.space == "log_days"

    blob = mixture.to_bytes()
    assert blob == mixture.to_bytes()
    loaded = load_model(blob)
    assert isinstance(loaded, SurvivalModel) and loaded.incidence is not None
    assert loaded.content_hash == mixture.content_hash
    prepared = loaded.prepare(rows)
    np.testing.assert_array_equal(
        loaded.probability_within(prepared, 30.0), mixture.probability_within(rows, 30.0)
    )
    np.testing.assert_array_equal(
        loaded.predict_interval(prepared)[1], mixture.predict_interval(rows)[1]
    )
    np.testing.assert_array_equal(loaded.probability_event(rows), mixture.probability_event(rows))
    # Scoring hands the model a Table: both parts read it as the frame.
    table = Table(
        {
            name: text_column(rows[name]) if name == "source" else rows[name].to_numpy()
            for name in rows.columns
        },
        len(rows),
        text=("source",),
    )
    np.testing.assert_array_equal(
        mixture.probability_within(table, 30.0), mixture.probability_within(rows, 30.0)
    )
