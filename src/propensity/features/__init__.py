"""Feature declarations and the point-in-time snapshot builder (docs/features.md).

build_training_set(session, *, prediction_type, kind=None, horizon_days=None,
                   snapshot_every_days=30, max_snapshots=12, max_rows=200_000, seed=0,
                   data_end=None, column_policy=None) -> TrainingSet
build_scoring_frame(session, *, prediction_type, kind=None, entity_ids=None, as_of=None,
                    mode=None, column_policy=None, features=None) -> ScoringFrame
population_ids(session, *, prediction_type, kind=None, as_of, mode) -> ids scored by default
lead_feature_groups(session, *, lead_id, as_of=None) -> dict[group, dict[camelCase, value]]
declared_features(prediction_type, *, kind=None) -> list[FeatureDefinition]
"""

from propensity.features.catalog import declared_features
from propensity.features.definitions import FeatureDefinition, FeatureGroup, FeatureKind
from propensity.features.lead_profile import lead_feature_groups
from propensity.features.policy import ColumnPolicy, ColumnRole
from propensity.features.scoring import ScoringFrame, build_scoring_frame, population_ids
from propensity.features.training import DataSummary, TrainingSet, build_training_set

__all__ = [
    "ColumnPolicy",
    "ColumnRole",
    "DataSummary",
    "FeatureDefinition",
    "FeatureGroup",
    "FeatureKind",
    "ScoringFrame",
    "TrainingSet",
    "build_scoring_frame",
    "build_training_set",
    "declared_features",
    "lead_feature_groups",
    "population_ids",
]
