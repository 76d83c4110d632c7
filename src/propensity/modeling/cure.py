"""A mixture (cure) model of time to an event that not every row will have: a lead closes, or
is closed lost, or stays open for good.

    P(event within t | x) = pi(x) * F(t | x)

`pi(x)`, the incidence, is P(the event ever happens): XGBoost `binary:logistic`. F is the
distribution of the time given that it happens: XGBoost `survival:aft` with the log-normal layer
of survival_calibration.py, as for a plain time-to-event model. Served medians and p10-p90
intervals are F's: how long a lead takes to close if it closes.

Why not one AFT model with every non-event censored: a lost lead then reads as "closes later",
and so does a lead left open for good, so the model describes a population that mostly closes
very late; on the simulator the p10-p90 interval held 43% of closings. Here a lost lead is known
not to be at risk: it counts as a non-event for pi and not at all for F. A row still open at the
end of the data may still close: w, its probability of closing (cure_weights.py, by Bayes from
pi, S(c) = 1 - F(c | x) and how likely a lead that never closes is to be lost by c), is its soft
label in pi's fit and its weight, as a censored row, in F's (an EM algorithm, Peng & Dear 2000,
with boosted trees in the M-step). Rows with the event have w = 1.

The EM, with each part cross-fitted once. The weights start from the same mixture without
covariates (cure_weights.start_weights). pi is cross-fitted on them; an E-step with its
out-of-fold predictions (and the covariate-free time to close) gives F's weights, so that the
open rows of leads unlikely to close weigh little in F; F is cross-fitted on those. E-steps on
both parts' out-of-fold predictions, alternating with the residual fit of F's location and
spread, give the final weights, and both boosters are refitted on all development rows with
them and the rounds their cross-fitting chose. Out-of-fold rather than in-sample predictions in
the E-step: a flexible pi fitted to its own soft labels drives an open row's w towards 0, one
iteration at a time. With F fitted on the covariate-free start weights instead, the "not closed
yet" of leads unlikely to close leaks into F: on tests/modeling/test_cure.py's leads the log
median then correlated -0.20 with the driver of P(close); -0.02 as done here. A pilot round of
both parts before the final one (measured: -0.07; a third round -0.006) cost 15% more time on
the demo's leads for coverage within noise (0.795 against 0.785 on the time split).
The incidence trees keep the plain leaf floor (min_child_weight 5), not binary.py's floor scaled
to entities: their explanations are never shown (explanations are of the time to close), and
the scaled floor cost 0.02 of C-index on the demo's leads trained a year before the end.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import xgboost as xgb
from scipy.special import expit

from propensity.modeling.cure_weights import StayCurve, closer_weights, start_weights
from propensity.modeling.ensemble import MarginModel
from propensity.modeling.intervals import conformal_levels
from propensity.modeling.survival_calibration import (
    INTERVAL,
    fit_residuals,
    probability_transform,
)
from propensity.modeling.training import Development, Progress
from propensity.modeling.trees import (
    TreeCv,
    aft_matrix,
    cross_fit_trees,
    fit_trees,
    tree_params,
)

# E-steps with the out-of-fold margins fixed: each is cheap (no trees), and the largest change
# of a weight falls tenfold per step (demo leads: 0.6, 0.06, 0.008, 0.001, 0.0001).
E_STEPS = 5
# P(close) learns twice as fast as the other trees: on the demo's leads it needed 700 rounds
# at 0.05 and half of the mixture's training time; at 0.1, C-index and Brier score moved within
# their noise (-0.001 and +0.0004 on the time split, +0.007 and -0.002 trained a year earlier).
INCIDENCE_ETA = 0.1


@dataclass(frozen=True, kw_only=True)
class Part:
    """One boosted part of the mixture, cross-fitted on the development rows."""

    engine: MarginModel
    oof_margin: np.ndarray  # out-of-fold margin per development row
    rounds: int
    score: float  # mean inner-validation metric at `rounds`
    params: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class MixtureFit:
    time: Part  # the AFT of log days, given the event
    incidence: Part  # logit P(the event ever happens)
    weights: np.ndarray  # per development row: P(the row will have the event | its outcome)
    staying: StayCurve  # G: P(a row that never has the event is not lost yet)
    shift: float
    scale: float
    levels: tuple[float, float]


def fit_mixture(
    *,
    data: Development,
    durations: np.ndarray,
    events: np.ndarray,
    lost: np.ndarray,
    seed: int,
    progress: Progress,
    tree_overrides: Mapping[str, Any] | None,
) -> MixtureFit:
    """Both parts on the development rows of `data` (durations etc. are theirs, in order)."""
    time_params = {
        **tree_params("survival", seed=seed, n_threads=data.threads),
        **(tree_overrides or {}),
    }
    incidence_params = {
        **tree_params("binary", seed=seed, n_threads=data.threads),
        "eta": INCIDENCE_ETA,
        **(tree_overrides or {}),
    }

    def time_matrix(rows: np.ndarray, w: np.ndarray) -> xgb.DMatrix:
        return aft_matrix(data.x[rows], durations[rows], events[rows], data.threads, weight=w[rows])

    def incidence_matrix(rows: np.ndarray, w: np.ndarray) -> xgb.DMatrix:
        return xgb.DMatrix(data.x[rows], label=w[rows], missing=np.nan, nthread=data.threads)

    span = len(data.folds) / 0.3
    weights, staying, times_left = start_weights(durations, events, lost)
    start = weights
    progress("incidence", 0.05)
    incidence_cv = cross_fit_trees(
        make_matrix=lambda rows: incidence_matrix(rows, start),
        folds=data.folds,
        n_rows=len(durations),
        params=incidence_params,
        on_fold=lambda i: progress("incidence", 0.05 + (i + 1) / span),
    )
    # F's weights from each row's own P(close), with the time to close still covariate-free.
    incidence = np.asarray(expit(incidence_cv.oof_margin), dtype=np.float64)
    weights = closer_weights(incidence, times_left, events, lost, staying.at(durations))
    staying = StayCurve.fit(durations, events, lost, weights)
    between = weights
    progress("xgboost", 0.38)
    time_cv = cross_fit_trees(
        make_matrix=lambda rows: time_matrix(rows, between),
        folds=data.folds,
        n_rows=len(durations),
        params=time_params,
        on_fold=lambda i: progress("xgboost", 0.38 + (i + 1) / span),
    )
    progress("calibration", 0.72)
    weights, staying, shift, scale = e_steps(
        (time_cv, incidence_cv), durations, events, lost, weights, staying
    )
    u = probability_transform(time_cv.oof_margin + shift, scale, durations)
    levels = conformal_levels(u, events, INTERVAL, weights)

    progress("refit", 0.78)
    every = np.arange(len(durations))

    def refit(
        cv: TreeCv,
        make_matrix: Callable[[np.ndarray, np.ndarray], xgb.DMatrix],
        params: dict[str, Any],
    ) -> Part:
        """One part refitted on every development row with the final weights, at its
        cross-fitted number of rounds."""
        booster = fit_trees(matrix=make_matrix(every, weights), params=params, rounds=cv.rounds)
        engine = MarginModel(
            preprocessor=data.preprocessor,
            booster_raw=bytes(booster.save_raw(raw_format="ubj")),
            linear=None,
            tree_weight=1.0,
            n_threads=data.threads,
        )
        return Part(
            engine=engine,
            oof_margin=cv.oof_margin,
            rounds=cv.rounds,
            score=cv.best_score,
            params=params,
        )

    return MixtureFit(
        time=refit(time_cv, time_matrix, time_params),
        incidence=refit(incidence_cv, incidence_matrix, incidence_params),
        weights=weights,
        staying=staying,
        shift=shift,
        scale=scale,
        levels=levels,
    )


def e_steps(
    fits: tuple[TreeCv, TreeCv],
    durations: np.ndarray,
    events: np.ndarray,
    lost: np.ndarray,
    weights: np.ndarray,
    staying: StayCurve,
) -> tuple[np.ndarray, StayCurve, float, float]:
    """(weights, G, shift, scale) after E-steps on out-of-fold margins (time, incidence)."""
    time_cv, incidence_cv = fits
    incidence = np.asarray(expit(incidence_cv.oof_margin), dtype=np.float64)
    residual = np.log(durations) - time_cv.oof_margin
    at_risk = ~lost
    for _ in range(E_STEPS):
        shift, scale = fit_residuals(residual[at_risk], events[at_risk], weights[at_risk])
        survival = 1.0 - probability_transform(time_cv.oof_margin + shift, scale, durations)
        weights = closer_weights(incidence, survival, events, lost, staying.at(durations))
        staying = StayCurve.fit(durations, events, lost, weights)
    shift, scale = fit_residuals(residual[at_risk], events[at_risk], weights[at_risk])
    return weights, staying, shift, scale
