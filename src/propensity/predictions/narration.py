"""Template narratives for scored entities: the facts of each prediction put into words.

Runs on every scored row, so the per-model work (feature statistics, definitions) is done
once per run rather than once per row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from propensity.lru import LruCache
from propensity.modeling import AnyModel
from propensity.models import ModelVersion
from propensity.narratives import FeatureStats, Narrative, PredictionFacts, narrate


@dataclass(frozen=True, kw_only=True)
class _VersionFacts:
    prediction_type: str
    population: str
    threshold: float | None
    horizon_days: int | None


class RunNarrator:
    def __init__(self, *, model: AnyModel, version: ModelVersion) -> None:
        self.model = model
        # The fields read, copied: a ModelVersion is bound to the session that loaded it.
        self._version = _VersionFacts(
            prediction_type=version.prediction_type,
            population=version.population,
            threshold=version.threshold,
            horizon_days=version.horizon_days,
        )
        self._definitions = {spec.name: spec for spec in model.features}
        self._stats: dict[str, FeatureStats] = {}
        for name, raw in (model.feature_stats or {}).items():
            parsed = FeatureStats.from_model_stats(raw) if isinstance(raw, dict) else None
            if parsed is not None:
                self._stats[name] = parsed

    def narrate(
        self,
        *,
        contributions: dict[str, float],
        values: dict[str, Any],
        probability: float | None,
        predicted_value: float | None,
        outputs: dict[str, Any],
    ) -> Narrative:
        interval = None
        if "p10Days" in outputs:
            interval = (float(outputs["p10Days"]), float(outputs["p90Days"]))
        elif "low" in outputs:
            interval = (float(outputs["low"]), float(outputs["high"]))
        current = outputs.get("currentScore")
        facts = PredictionFacts.build(
            prediction_type=self._version.prediction_type,
            contributions=contributions,
            values=values,
            definitions=self._definitions,
            feature_stats=self._stats,
            probability=probability,
            predicted_value=predicted_value,
            interval=interval,
            threshold=self._version.threshold,
            horizon_days=self._version.horizon_days,
            current_score=None if current is None or math.isnan(float(current)) else float(current),
            kind=None if self._version.population == "lead" else self._version.population,
        )
        return narrate(facts=facts)


MAX_NARRATORS = 64
_NARRATORS: LruCache[tuple[Any, ...], RunNarrator] = LruCache(MAX_NARRATORS)


def narrator_for(*, model: AnyModel, version: ModelVersion) -> RunNarrator:
    """The run narrator of this model version, built once per process.

    Keyed by everything it reads: the model object (artifact_cache hands out one per content
    hash, so a new artifact is a new key) and the version fields used in the text."""
    key = (
        id(model),
        version.id,
        version.artifact_hash,
        version.prediction_type,
        version.population,
        version.threshold,
        version.horizon_days,
    )
    narrator = _NARRATORS.get(key)
    if narrator is not None and narrator.model is model:
        return narrator
    narrator = RunNarrator(model=model, version=version)
    _NARRATORS.put(key, narrator)
    return narrator


def narrative_outputs(narrative: Narrative) -> dict[str, Any]:
    """The narrative as stored with a prediction (JSON), in the documents' field names."""
    return {
        "level": narrative.level,
        "riskFactors": [f.to_dict(with_value=True) for f in narrative.risk_factors],
        "strengths": [f.to_dict(with_value=True) for f in narrative.strengths],
        "primaryDrivers": narrative.primary_drivers,
        "recommendations": [r.to_dict() for r in narrative.recommendations],
        "decisionFactors": narrative.decision_factors,
        "interventionUrgency": narrative.intervention_urgency,
    }
