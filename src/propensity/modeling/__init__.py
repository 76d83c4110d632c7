"""Propensity's modeling engine: pure functions from a table to a trained, calibrated and
explained model. No database and no HTTP; every argument is keyword-only.

    train_binary(frame=, labels=, features=, times=None, seed=0, progress=None) -> BinaryModel
    train_survival(frame=, durations_days=, observed=, features=, lost=None, ...) -> SurvivalModel
    train_regression(frame=, targets=, features=, ...) -> RegressionModel
    load_model(blob) -> BinaryModel | SurvivalModel | RegressionModel

The binary and regression trainers take `family` (binary: "auto" | "xgboost" | "catboost" |
"logistic" | "blend", and `search` "auto" | "narrow" | "wide", see candidates.py; regression:
"auto" | "xgboost" | "ridge" | "blend"). Every trainer takes `test_fraction` (0.2; 0 turns the
internal test split off for callers that evaluate elsewhere), `inner_folds_count` (5) and
`n_threads` (XGBoost threads, 1 by default: see threads.py). `progress(stage, fraction)` receives
the stages preprocessing, xgboost, catboost (when it is a candidate), logistic (or ridge), blend,
incidence (a time-to-event mixture), refit, calibration, evaluation, statistics and done, with a
non-decreasing fraction in [0, 1]; an exception raised by the callback aborts training (that is
how a job is cancelled). Rows whose label is missing (NaN) are left out and counted in
`training`.

Splits
    A held-out test split (20% by default) is cut first: the newest rows when `times` is given,
    otherwise a stratified random split. Everything below (preprocessing fit, early stopping,
    selection, calibration, threshold) sees only the remaining development rows, which are
    cross-fitted with 5 inner folds (contiguous time blocks when `times` is given). Test metrics
    therefore describe exactly the returned model on rows it never saw in any way. A binary
    model also keeps the points of its ROC curve and reliability diagram on those rows
    (`training["curves"]`, modeling/curves.py), so the dashboard draws what the metrics measured.

Selection rule
    Binary: a small XGBoost (depth 4, eta 0.05, min_child_weight 5, subsample and column sample
    0.8, early stopping at the round that minimises the validation log-loss averaged over the inner
    folds) and an L2 logistic regression (one-hot with rare/unseen categories pooled, median
    imputation plus missing indicators, winsorising at p1/p99, standard scaling; C chosen from a
    grid by out-of-fold log-loss), plus CatBoost (depth 4, eta 0.05) when the data is small enough
    (candidates.py). Their blend is margin = w * xgboost + c * catboost + (1 - w - c) * linear,
    weights on a 0.1 grid adding up to 1. Candidates are compared by out-of-fold log-loss after the
    best affine recalibration (calibration.recalibrated_log_loss); the best single family wins
    unless the best blend lowers it by at least 0.2% (relative). With point-in-time rows (`times`),
    the trees' leaf-size floor scales with how many snapshots each entity contributes
    (trees.entity_min_child_weight). See docs/modeling.md. Regression does the same with XGBoost
    and ridge, compared by MAE. Time to event is XGBoost survival:aft only (the family that handles
    censoring); given `lost` (rows that will never have the event), a mixture of it, for the time
    given the event, and binary:logistic for whether it happens (cure.py). The choice, every
    candidate's score and the reason in words are in `model.selection`. The final model is the
    chosen configuration refitted on all development rows.

Calibration rule
    Fitted on the out-of-fold margins of the development rows (every row predicted by a model that
    never trained on it) and then applied to the refitted model; this is the standard
    cross-fitted calibration (what scikit-learn's CalibratedClassifierCV does with
    ensemble=False). Isotonic regression when there are >= 1000 calibration rows and >= 100 of the
    rarer class, Platt's sigmoid otherwise: isotonic can fix any monotone miscalibration but
    needs many examples per step; the sigmoid cannot overfit a small set. Each isotonic step gets
    one pseudo-observation at the base rate so no step reads exactly 0% or 100%.

Threshold criterion
    `threshold` maximises F1 of the out-of-fold calibrated probabilities (flag when p >=
    threshold; ties go to the higher threshold). Accuracy would flag nobody at 5% positives and
    Youden's J ignores precision, which floods teams with false alarms when positives are rare.

Minimum data (see minimums.py)
    Binary: >= 100 labelled rows and >= 30 of each class. Time to event: >= 100 rows and >= 30
    observed events. Regression: >= 100 rows with a target that varies. Below that training
    raises propensity.errors.InsufficientData saying how many there are and how many are needed.

Explanations
    `explain(frame)` gives, per row and per original feature, contributions in the model's raw
    space (log-odds; log-days; target units) with bias + sum(contributions) == raw exactly:
    XGBoost's TreeSHAP (pred_contribs) with one-hot columns summed back to their feature, the
    linear model's coefficient * (scaled value - training mean), and for a blend the same
    weighted sum as the margin. Sums per feature group are in `group_contributions`.

Confidence (see confidence.py)
    confidence = quality * familiarity. quality is the held-out skill in [0, 1] (2 * ROC-AUC - 1;
    2 * C-index - 1; 1 - MAE / MAE of predicting the mean). familiarity = 1 - sum_f w_f *
    surprise_f with w_f = 0.5 * importance_f + 0.5 / F, where surprise is 1 - (training missing
    rate) for a missing value, 1 for a number outside the training [p1, p99] (unless at least 1%
    of training rows held that exact value), 1 - (training share of rare categories) for a rare
    or unseen category, else 0.

Inputs
    Numeric, boolean, categorical (any string dtype) and datetime columns (as days before the
    newest training value); missing values anywhere; columns absent at scoring time are treated as
    missing; unseen categories share the rare-category column. Artifacts are one zip of JSON plus
    XGBoost's native UBJSON (no pickle); `content_hash` is the sha256 of those bytes.
"""

from propensity.modeling.binary import BinaryModel, train_binary
from propensity.modeling.explain import Explanation
from propensity.modeling.loading import AnyModel, load_model
from propensity.modeling.model import Inputs, Prepared
from propensity.modeling.regression import RegressionModel, train_regression
from propensity.modeling.specs import FeatureGroup, FeatureKind, FeatureSpec, infer_feature_specs
from propensity.modeling.survival import SurvivalModel, train_survival
from propensity.modeling.table import Table
from propensity.modeling.training import ProgressCallback

__all__ = [
    "AnyModel",
    "BinaryModel",
    "Explanation",
    "FeatureGroup",
    "FeatureKind",
    "FeatureSpec",
    "Inputs",
    "Prepared",
    "ProgressCallback",
    "RegressionModel",
    "SurvivalModel",
    "Table",
    "infer_feature_specs",
    "load_model",
    "train_binary",
    "train_regression",
    "train_survival",
]
