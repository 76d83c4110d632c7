"""Time to event (time to close): XGBoost `survival:aft` with right-censoring, giving a median
and a p10-p90 interval in days.

Open leads are right-censored: their duration so far is a lower bound (label interval
[d, +inf)). The AFT model predicts mu(x), the location of log T. Its own distribution scale is a
training hyperparameter, not an estimate, so the interval is calibrated afterwards: on the
out-of-fold mu of the development rows, residuals r = log d - mu are fitted as
Normal(delta, sigma) by censored maximum likelihood (censored residuals are lower bounds). Then
    median = exp(mu + delta),  p_q = exp(mu + delta + sigma * z_q)  (z_0.1 = -z_0.9 = -1.2816)
and P(event within t days) = Phi((log t - mu - delta) / sigma).

The normal shape is an assumption; the served interval does not rest on it. Its quantile levels
are recalibrated on the same out-of-fold predictions so that, by a Kaplan-Meier estimate that
counts censored rows for what they say (intervals.py), 10% of events fall below it and 10%
above: p10 and p90 are the model's quantiles at `levels`, not at 0.1 and 0.9.

When the caller says which censored rows can no longer have the event (`lost`: leads closed
lost), the model is a mixture (cure.py): `incidence` gives P(the event ever happens) and the AFT
part, with everything above, the time given that it does. Medians, intervals and explanations
are then of the time to close for a lead that closes; P(event within t days) is
incidence * Phi(...). Without `lost` (a data set where every row is at risk until its event)
the model is the plain AFT, bit for bit as before.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import norm

from propensity.errors import InvalidInput
from propensity.modeling import minimums
from propensity.modeling.artifacts import read_container, write_container
from propensity.modeling.confidence import quality_from_score
from propensity.modeling.cure_weights import StayCurve, closer_weights
from propensity.modeling.ensemble import MarginModel
from propensity.modeling.explain import Explanation
from propensity.modeling.importance import describe_training_data
from propensity.modeling.model import Inputs, TrainedModel
from propensity.modeling.specs import FeatureSpec
from propensity.modeling.splits import DEFAULT_INNER_FOLDS, DEFAULT_TEST_FRACTION
from propensity.modeling.survival_calibration import (
    INTERVAL,
    fit_residuals,
    probability_transform,
    survival_metrics,
)
from propensity.modeling.survival_fit import fit_mixed, fit_plain, held_out_metrics
from propensity.modeling.threads import single_threaded_blas
from propensity.modeling.training import (
    Progress,
    ProgressCallback,
    develop,
    prepare,
    training_summary,
)
from propensity.modeling.trees import tree_hyperparameters

# Same-day events still need a positive duration on a log scale: count them as half a day.
MIN_DURATION_DAYS = 0.5
# The incidence part's booster, next to the AFT part's in the artifact (artifacts.py).
INCIDENCE_BOOSTER = "incidence.ubj"

__all__ = [
    "INTERVAL",
    "MIN_DURATION_DAYS",
    "SurvivalModel",
    "fit_residuals",
    "probability_transform",
    "survival_metrics",
    "train_survival",
]


@dataclass(kw_only=True, eq=False)
class SurvivalModel(TrainedModel):
    KIND = "survival"

    shift: float  # delta: added to mu so exp(mu + delta) is the calibrated median
    scale: float  # sigma of log-time residuals around the median
    levels: tuple[float, float] = INTERVAL  # model quantile levels served as p10 and p90
    # Mixture models only: logit P(the event ever happens), on the same design matrix, and
    # how likely a row that never has it is to stay unlost (for weights, cure_weights.py).
    incidence: MarginModel | None = None
    staying: StayCurve | None = None

    def predict_median(self, frame: Inputs) -> np.ndarray:
        """Predicted median days until the event (given that it happens, for a mixture)."""
        return np.exp(self.margin(frame) + self.shift)

    def predict_quantile(self, frame: Inputs, q: float) -> np.ndarray:
        if not 0.0 < q < 1.0:
            raise InvalidInput("A quantile must be between 0 and 1.")
        return np.exp(self.margin(frame) + self.shift + self.scale * float(norm.ppf(q)))

    def predict_interval(self, frame: Inputs) -> tuple[np.ndarray, np.ndarray]:
        """(p10, p90) days: 80% of events are expected to happen inside the interval."""
        location = self.margin(frame) + self.shift
        low, high = (float(norm.ppf(q)) for q in self.levels)
        return np.exp(location + self.scale * low), np.exp(location + self.scale * high)

    def probability_event(self, frame: Inputs) -> np.ndarray:
        """P(the event happens at all) per row: 1 for a plain time-to-event model."""
        if self.incidence is None:
            return np.ones(len(self.margin(frame)))
        return np.asarray(expit(self.incidence.margin(self.matrix(frame))), dtype=np.float64)

    def probability_within(self, frame: Inputs, days: float) -> np.ndarray:
        """P(event within `days`) per row."""
        if days <= 0:
            raise InvalidInput("`days` must be positive.")
        location = self.margin(frame) + self.shift
        timing = np.asarray(norm.cdf((np.log(days) - location) / self.scale))
        if self.incidence is None:
            return timing
        return np.asarray(self.probability_event(frame) * timing)

    def event_weights(
        self, frame: Inputs, durations: np.ndarray, events: np.ndarray, lost: np.ndarray
    ) -> np.ndarray:
        """P(each row will have the event | its outcome so far: the event after `durations`
        days, lost then, or neither yet), the weight a row gets in the censoring-aware coverage
        of a mixture (intervals.py). 1 for an event and, for a plain model, for every row."""
        if self.incidence is None:
            return np.ones(len(durations))
        location = self.margin(frame) + self.shift
        survival = 1.0 - probability_transform(location, self.scale, durations)
        staying = self.staying.at(durations) if self.staying is not None else 1.0
        return closer_weights(self.probability_event(frame), survival, events, lost, staying)

    def explain(self, frame: Inputs) -> Explanation:
        """Contributions to log(median days); the calibration shift delta is part of the bias."""
        contributions, bias, margin = self._contributions(frame)
        return Explanation(
            features=self.features,
            contributions=contributions,
            bias=bias + self.shift,
            raw=margin + self.shift,
            prediction=np.exp(margin + self.shift),
            space="log_days",
        )

    def _task_manifest(self) -> dict[str, Any]:
        task: dict[str, Any] = {"shift": self.shift, "scale": self.scale}
        if self.levels != INTERVAL:  # artifacts from before the recalibration keep their bytes
            task["levels"] = list(self.levels)
        if self.incidence is not None:
            task["incidence"] = {"family": "xgboost", "booster": INCIDENCE_BOOSTER}
            if self.staying is not None:
                task["incidence"]["staying"] = self.staying.to_dict()
        return task

    def to_bytes(self) -> bytes:
        if self._blob is None and self.incidence is not None:
            # The shared container holds one booster; the incidence part's rides beside it.
            manifest, blobs = read_container(super().to_bytes())
            assert self.incidence.booster_raw is not None
            blobs[INCIDENCE_BOOSTER] = self.incidence.booster_raw
            self._blob = write_container(manifest, blobs)
        return super().to_bytes()

    @classmethod
    def from_bytes(cls, blob: bytes) -> Self:
        model = super().from_bytes(blob)
        manifest, blobs = read_container(blob)
        part = manifest["task"].get("incidence")
        if part is not None:
            engine = model.engine
            if part.get("staying") is not None:
                model.staying = StayCurve.from_dict(part["staying"])
            model.incidence = MarginModel(
                preprocessor=engine.preprocessor,
                booster_raw=blobs[INCIDENCE_BOOSTER],
                linear=None,
                tree_weight=1.0,
                n_threads=engine.n_threads,
            )
        return model

    @classmethod
    def _from_manifest(cls, common: dict[str, Any], task: dict[str, Any]) -> Self:
        low, high = task.get("levels", INTERVAL)
        return cls(
            **common,
            shift=float(task["shift"]),
            scale=float(task["scale"]),
            levels=(float(low), float(high)),
        )


def _survival_labels(
    durations_days: np.ndarray, observed: np.ndarray, lost: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    durations = np.asarray(durations_days, dtype=np.float64)
    events = np.asarray(observed)
    if durations.shape != events.shape or (lost is not None and np.shape(lost) != events.shape):
        raise InvalidInput("`durations_days`, `observed` and `lost` must have the same length.")
    keep = ~np.isnan(durations)
    if np.any(durations[keep] < 0):
        raise InvalidInput("Durations must be zero or positive days.")
    kept_lost = None
    if lost is not None:
        kept_lost = np.asarray(lost, dtype=bool)[keep]
        if np.any(kept_lost & events[keep].astype(bool)):
            raise InvalidInput("A row cannot be both an observed event and lost.")
    return (
        np.maximum(durations[keep], MIN_DURATION_DAYS),
        events[keep].astype(bool),
        kept_lost,
        keep,
    )


@single_threaded_blas
def train_survival(
    *,
    frame: pd.DataFrame,
    durations_days: np.ndarray,
    observed: np.ndarray,
    features: Sequence[FeatureSpec],
    lost: np.ndarray | None = None,
    horizon_days: float | None = None,
    times: pd.Series | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    inner_folds_count: int = DEFAULT_INNER_FOLDS,
    n_threads: int | None = None,
    tree_overrides: Mapping[str, Any] | None = None,
) -> SurvivalModel:
    """Time-to-event model. Rows with a NaN duration are left out; `observed` False = censored.

    `lost` (True = censored and never going to have the event, e.g. a lead closed lost) makes
    it a mixture model (cure.py). `horizon_days`: the time the served P(event within) is asked
    for; a mixture's C-index ranks rows by it (without it, by the median observed duration)."""
    started = time.perf_counter()
    report = Progress(progress)
    report("preprocessing", 0.0)
    durations, events, lost_rows, keep = _survival_labels(durations_days, observed, lost)
    minimums.check_survival(events)
    prepared = prepare(frame=frame, features=features, n_rows=len(keep), keep=keep, times=times)
    data = develop(
        prepared,
        features,
        strata=events.astype(np.float64),
        test_fraction=test_fraction,
        inner_folds_count=inner_folds_count,
        seed=seed,
        n_threads=n_threads,
        check=lambda split: minimums.check_development_events(
            events[split.development], split=split.method
        ),
    )
    if lost_rows is not None and bool(np.all(events)):
        lost_rows = None  # every row had the event: nothing for an incidence part to learn
    if lost_rows is None:
        fitted = fit_plain(data, durations, events, seed, report, tree_overrides)
    else:
        fitted = fit_mixed(data, durations, events, lost_rows, seed, report, tree_overrides)
    engine, shift, scale, levels, incidence = fitted.engine, *fitted.calibration, fitted.incidence
    staying = fitted.staying
    dev, test = data.split.development, data.split.test
    d_dev, e_dev = durations[dev], events[dev]
    horizon = horizon_days if horizon_days is not None else float(np.median(d_dev[e_dev]))

    report("evaluation", 0.88)
    if len(test):
        test_x = data.test_x()
        location = engine.margin(test_x) + shift
        metrics = held_out_metrics(
            location,
            (scale, levels, horizon),
            durations[test],
            events[test],
            None if incidence is None else expit(incidence.margin(test_x)),
            None if lost_rows is None else lost_rows[test],
            staying,
        )
        metrics["evaluated_on"] = f"held-out test split ({data.split.method})"
    else:
        metrics = held_out_metrics(
            fitted.oof_margin + shift,
            (scale, levels, horizon),
            d_dev,
            e_dev,
            fitted.oof_incidence,
            None if lost_rows is None else lost_rows[dev],
            staying,
        )
        metrics["evaluated_on"] = "inner validation (no test split; the levels were fitted here)"

    report("statistics", 0.93)
    baseline = describe_training_data(engine, data.frame, data.x, seed)
    interval = {"shift": shift, "scale": scale, "quantiles": list(INTERVAL), "levels": list(levels)}
    extra: dict[str, Any] = {
        "features": len(features),
        "events": int(events.sum()),
        "censored": int((~events).sum()),
        "median_observed_days": float(np.median(durations[events])),
    }
    if lost_rows is not None:
        extra["lost"] = int(lost_rows.sum())
    summary = training_summary(prepared=prepared, split=data.split, started=started, extra=extra)
    model = SurvivalModel(
        engine=engine,
        metrics=metrics,
        selection=fitted.selection,
        hyperparameters={
            "family": "xgboost",
            "xgboost": tree_hyperparameters(
                "survival", tree_overrides=tree_overrides, rounds=fitted.rounds
            ),
            **fitted.hyperparameters,
            "interval": interval,
            "seed": seed,
            "n_threads": data.threads,
        },
        feature_stats=baseline.feature_stats,
        importance=baseline.importance,
        training=summary,
        references=baseline.references,
        quality=quality_from_score(_number(metrics.get("c_index")), kind="auc"),
        shift=shift,
        scale=scale,
        levels=levels,
        incidence=incidence,
        staying=staying,
    )
    report("done", 1.0)
    return model


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
