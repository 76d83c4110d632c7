"""The two ways train_survival fits: a plain AFT model (every censored row may still have the
event) and a mixture (some rows never will: cure.py), and their held-out metrics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import xgboost as xgb
from scipy.special import expit

from propensity.modeling.cure import fit_mixture
from propensity.modeling.cure_weights import StayCurve, closer_weights
from propensity.modeling.ensemble import MarginModel
from propensity.modeling.intervals import conformal_levels
from propensity.modeling.metrics import Metrics
from propensity.modeling.survival_calibration import (
    INTERVAL,
    fit_residuals,
    probability_transform,
    survival_metrics,
)
from propensity.modeling.training import Development, Progress, fit_and_select
from propensity.modeling.trees import aft_matrix, tree_hyperparameters


@dataclass(frozen=True, kw_only=True)
class Fitted:
    """What train_survival needs of either kind of fit."""

    engine: MarginModel  # log days (given the event, for a mixture)
    calibration: tuple[float, float, tuple[float, float]]  # shift, scale, levels
    incidence: MarginModel | None
    staying: StayCurve | None
    oof_margin: np.ndarray
    oof_incidence: np.ndarray | None
    rounds: int | None
    selection: dict[str, Any]
    hyperparameters: dict[str, Any]


def fit_plain(
    data: Development,
    durations: np.ndarray,
    events: np.ndarray,
    seed: int,
    report: Progress,
    tree_overrides: Mapping[str, Any] | None,
) -> Fitted:
    dev = data.split.development
    d_dev, e_dev = durations[dev], events[dev]

    def make_matrix(rows: np.ndarray) -> xgb.DMatrix:
        return aft_matrix(data.x[rows], d_dev[rows], e_dev[rows], data.threads)

    fit = fit_and_select(
        x_dev=data.x,
        preprocessor=data.preprocessor,
        folds=data.folds,
        task="survival",
        make_matrix=make_matrix,
        linear=None,
        loss=lambda margin: 0.0,
        criterion="aft negative log-likelihood",
        family="xgboost",
        seed=seed,
        n_threads=data.threads,
        progress=report,
        tree_overrides=tree_overrides,
    )
    report("calibration", 0.82)
    shift, scale = fit_residuals(np.log(d_dev) - fit.oof_margin, e_dev)
    levels = conformal_levels(
        probability_transform(fit.oof_margin + shift, scale, d_dev), e_dev, INTERVAL
    )
    selection = fit.selection.to_dict()
    selection["candidates"] = {"xgboost": fit.tree_score}
    selection["reason"] = (
        "Time to event uses XGBoost survival:aft (the one family here that handles censoring); "
        f"{fit.rounds} rounds chosen by inner-validation AFT negative log-likelihood."
    )
    selection["interval_calibration"] = {
        "shift": shift,
        "scale": scale,
        "fitted_on": "out-of-fold log-time residuals of the development rows (censored MLE)",
        "levels": list(levels),
        "levels_fitted_on": "Kaplan-Meier of out-of-fold probability-integral transforms",
    }
    return Fitted(
        engine=fit.engine,
        calibration=(shift, scale, levels),
        incidence=None,
        staying=None,
        oof_margin=fit.oof_margin,
        oof_incidence=None,
        rounds=fit.rounds,
        selection=selection,
        hyperparameters={},
    )


def fit_mixed(
    data: Development,
    durations: np.ndarray,
    events: np.ndarray,
    lost: np.ndarray,
    seed: int,
    report: Progress,
    tree_overrides: Mapping[str, Any] | None,
) -> Fitted:
    dev = data.split.development
    fit = fit_mixture(
        data=data,
        durations=durations[dev],
        events=events[dev],
        lost=lost[dev],
        seed=seed,
        progress=report,
        tree_overrides=tree_overrides,
    )
    time_part, incidence_part = fit.time, fit.incidence
    open_rows = ~events[dev] & ~lost[dev]
    selection = {
        "chosen": "xgboost",
        "tree_weight": 1.0,
        "model": "mixture: P(event ever) x time given the event (cure.py)",
        "criterion": "aft negative log-likelihood (time) and log-loss (incidence), weighted "
        "by P(each row will have the event)",
        "candidates": {"xgboost": time_part.score, "incidence": incidence_part.score},
        "reason": (
            "Time to event with rows that will never have it (lost): XGBoost survival:aft for "
            "the time given the event and binary:logistic for whether it happens; "
            f"{time_part.rounds} and {incidence_part.rounds} rounds chosen by inner validation."
        ),
        "evaluated_on": "inner validation (out-of-fold predictions of the development rows)",
        "inner_folds": len(data.folds),
        "development_rows": len(dev),
        "xgboost_rounds": time_part.rounds,
        "incidence_rounds": incidence_part.rounds,
        "open_rows_event_share": float(fit.weights[open_rows].mean()) if open_rows.any() else None,
        "interval_calibration": {
            "shift": fit.shift,
            "scale": fit.scale,
            "fitted_on": "out-of-fold log-time residuals of the rows at risk, weighted by "
            "P(they will have the event) (censored MLE alternating with E-steps)",
            "levels": list(fit.levels),
            "levels_fitted_on": "weighted Kaplan-Meier of out-of-fold probability-integral "
            "transforms (intervals.py)",
        },
    }
    return Fitted(
        engine=time_part.engine,
        calibration=(fit.shift, fit.scale, fit.levels),
        incidence=incidence_part.engine,
        staying=fit.staying,
        oof_margin=time_part.oof_margin,
        oof_incidence=np.asarray(expit(incidence_part.oof_margin), dtype=np.float64),
        rounds=time_part.rounds,
        selection=selection,
        hyperparameters={
            "incidence": {
                **tree_hyperparameters("binary", tree_overrides=None, rounds=incidence_part.rounds),
                **{k: v for k, v in incidence_part.params.items() if k not in ("seed", "nthread")},
            }
        },
    )


def held_out_metrics(
    location: np.ndarray,
    interval: tuple[float, tuple[float, float], float],
    durations: np.ndarray,
    events: np.ndarray,
    incidence: np.ndarray | None,
    lost: np.ndarray | None,
    staying: StayCurve | None,
) -> Metrics:
    scale, levels, horizon = interval
    if incidence is None or lost is None:
        return survival_metrics(location, scale, durations, events, levels=levels)
    survival = 1.0 - probability_transform(location, scale, durations)
    return survival_metrics(
        location,
        scale,
        durations,
        events,
        levels=levels,
        incidence=incidence,
        weights=closer_weights(
            incidence,
            survival,
            events,
            lost,
            staying.at(durations) if staying is not None else 1.0,
        ),
        lost=lost,
        horizon_days=horizon,
    )
