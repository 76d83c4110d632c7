"""What every trained model has in common: the scoring engine, its metadata, confidence,
explanations and the artifact round trip. Task classes add their output layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import xgboost as xgb

from propensity.errors import InvalidInput
from propensity.modeling.artifacts import (
    BOOSTER,
    CATBOOST,
    content_hash,
    read_container,
    write_container,
)
from propensity.modeling.confidence import FeatureReference, familiarity
from propensity.modeling.ensemble import MarginModel
from propensity.modeling.linear import LinearModel
from propensity.modeling.metrics import Metrics
from propensity.modeling.preprocessing import Decoded, Preprocessor
from propensity.modeling.specs import FeatureGroup, FeatureSpec
from propensity.modeling.table import Table


@dataclass(eq=False)
class Prepared:
    """A feature table as one model reads it, decoded once for several calls.

    Scoring asks a model for its prediction, explanation and confidence of the same rows; each
    call on a DataFrame decodes it again, which is most of the cost for a single row. Made by
    `model.prepare(frame)` and valid for that model only. The margin is memoised because every
    output layer starts from it (survival asks three times)."""

    owner: object
    decoded: list[Decoded]
    x: np.ndarray
    margin: np.ndarray | None = None
    # The trees' DMatrix of `x`, shared by the margin and the contributions when `x` has few
    # rows (MarginModel.shared_dmatrix); None otherwise: the trees predict in place.
    dmatrix: xgb.DMatrix | None = None

    def take(self, rows: np.ndarray) -> Prepared:
        """These rows only (positions), e.g. to explain the few a person will read."""
        return Prepared(
            owner=self.owner,
            decoded=[values[rows] for values in self.decoded],
            x=self.x[rows],
            margin=None if self.margin is None else self.margin[rows],
        )


Inputs = pd.DataFrame | Table | Prepared


@dataclass(kw_only=True, eq=False)
class TrainedModel:
    KIND: ClassVar[str] = ""

    engine: MarginModel
    metrics: Metrics
    selection: dict[str, Any]
    hyperparameters: dict[str, Any]
    feature_stats: dict[str, Any]
    importance: dict[str, float]  # feature -> share of mean |contribution|, sums to 1
    training: dict[str, Any]  # rows, positives/events, time range, duration_seconds, ...
    references: list[FeatureReference]
    quality: float  # held-out skill in [0, 1], the ceiling of `confidence`
    _blob: bytes | None = field(default=None, init=False, repr=False)

    @property
    def features(self) -> tuple[FeatureSpec, ...]:
        return self.engine.preprocessor.specs

    @property
    def family(self) -> str:
        return self.engine.family

    @property
    def group_importance(self) -> dict[str, float]:
        groups = {g.value: 0.0 for g in FeatureGroup}
        for spec in self.features:
            groups[spec.group.value] += self.importance.get(spec.name, 0.0)
        return groups

    def prepare(self, frame: pd.DataFrame | Table) -> Prepared:
        """`frame` decoded once, to pass to several of this model's methods."""
        preprocessor = self.engine.preprocessor
        decoded = preprocessor.decode(_frame(frame))
        x = preprocessor.matrix(decoded)
        return Prepared(owner=self, decoded=decoded, x=x, dmatrix=self.engine.shared_dmatrix(x))

    def _prepared(self, inputs: Inputs) -> Prepared:
        if isinstance(inputs, Prepared):
            if inputs.owner is not self:
                raise ValueError("these inputs were prepared for another model")
            return inputs
        return self.prepare(inputs)

    def matrix(self, inputs: Inputs) -> np.ndarray:
        """The design matrix (one-hot categories, numbers as float64) of `inputs`."""
        if isinstance(inputs, Prepared):
            return self._prepared(inputs).x
        return self.engine.matrix(_frame(inputs))

    def margin(self, frame: Inputs) -> np.ndarray:
        """The raw output (log-odds, log-days or target units) the explanations add up to."""
        if not isinstance(frame, Prepared):
            return self.engine.margin(self.engine.matrix(_frame(frame)))
        prepared = self._prepared(frame)
        if prepared.margin is None:
            prepared.margin = self.engine.margin(prepared.x, prepared.dmatrix)
        return prepared.margin

    def _contributions(self, inputs: Inputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """engine.contributions of `inputs`, reusing a prepared margin and DMatrix."""
        if isinstance(inputs, Prepared):
            prepared = self._prepared(inputs)
            return self.engine.contributions(prepared.x, self.margin(prepared), prepared.dmatrix)
        return self.engine.contributions(self.matrix(inputs))

    def confidence(self, frame: Inputs) -> np.ndarray:
        """Per row in [0, 1]: held-out quality * familiarity of the inputs (see confidence.py)."""
        decoded = self._prepared(frame).decoded
        return self.quality * familiarity(self.engine.preprocessor, decoded, self.references)

    # -- artifacts --------------------------------------------------------------------------

    def _task_manifest(self) -> dict[str, Any]:
        return {}

    def to_bytes(self) -> bytes:
        if self._blob is None:
            engine = self.engine
            manifest = {
                "kind": self.KIND,
                "preprocessing": engine.preprocessor.to_dict(),
                "linear": engine.linear.to_dict() if engine.linear is not None else None,
                "tree_weight": engine.tree_weight,
                "n_threads": engine.n_threads,
                "metrics": self.metrics,
                "selection": self.selection,
                "hyperparameters": self.hyperparameters,
                "feature_stats": self.feature_stats,
                "importance": self.importance,
                "training": self.training,
                "confidence": {
                    "quality": self.quality,
                    "features": [r.to_dict() for r in self.references],
                },
                "task": self._task_manifest(),
            }
            blobs = {BOOSTER: engine.booster_raw} if engine.booster_raw is not None else {}
            if engine.catboost_weight > 0 and engine.catboost_raw is not None:
                # Only when CatBoost is part of the model, so artifacts without it keep the
                # exact bytes (and content hashes) they had before CatBoost was a candidate.
                manifest["catboost_weight"] = engine.catboost_weight
                blobs[CATBOOST] = engine.catboost_raw
            self._blob = write_container(_jsonable(manifest), blobs)
        return self._blob

    @property
    def content_hash(self) -> str:
        """sha256 of `to_bytes()`: equal hashes mean the same model, bit for bit."""
        return content_hash(self.to_bytes())

    @classmethod
    def _from_manifest(cls, common: dict[str, Any], task: dict[str, Any]) -> Self:
        return cls(**common)

    @classmethod
    def from_bytes(cls, blob: bytes) -> Self:
        manifest, blobs = read_container(blob)
        if manifest.get("kind") != cls.KIND:
            raise InvalidInput(
                f"This artifact holds a {manifest.get('kind')} model, not a {cls.KIND} model."
            )
        linear = manifest["linear"]
        engine = MarginModel(
            preprocessor=Preprocessor.from_dict(manifest["preprocessing"]),
            booster_raw=blobs.get(BOOSTER),
            linear=LinearModel.from_dict(linear) if linear is not None else None,
            tree_weight=float(manifest["tree_weight"]),
            n_threads=int(manifest["n_threads"]),
            catboost_raw=blobs.get(CATBOOST),
            catboost_weight=float(manifest.get("catboost_weight", 0.0)),
        )
        common = {
            "engine": engine,
            "metrics": manifest["metrics"],
            "selection": manifest["selection"],
            "hyperparameters": manifest["hyperparameters"],
            "feature_stats": manifest["feature_stats"],
            "importance": manifest["importance"],
            "training": manifest["training"],
            "references": [
                FeatureReference.from_dict(r) for r in manifest["confidence"]["features"]
            ],
            "quality": float(manifest["confidence"]["quality"]),
        }
        model = cls._from_manifest(common, manifest["task"])
        model._blob = blob
        return model


def _frame(frame: pd.DataFrame | Table) -> pd.DataFrame | Table:
    if isinstance(frame, Table):
        return frame
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInput("Scoring needs a table (a pandas DataFrame) of feature values.")
    return frame.reset_index(drop=True)


def _jsonable(value: Any) -> Any:
    """NaN and +-inf become None and numpy scalars plain Python, so the manifest is strict JSON."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    return value
