"""Per-lead explanations for the feature-importance endpoint, computed now with the model's
exact contributions (TreeSHAP for trees, coefficient x centred value for the linear part; they
add up to the model's raw output, see modeling/explain.py).

`shapValues` are the contributions in the model's raw space (log-odds for binary models);
`localImportance` is each feature's share of the lead's total |contribution| (sums to 1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from propensity.errors import InvalidInput
from propensity.models import ModelVersion
from propensity.monitoring.service import load_version_model
from propensity.predictions.scoring import model_frame
from propensity.timefmt import iso_z


def local_explanations(
    session: Session, *, version: ModelVersion, lead_ids: list[int], as_of: datetime
) -> dict[str, Any]:
    if version.population != "lead":
        raise InvalidInput(
            f"leadIds needs a lead model; model {version.id} is a "
            f"{version.prediction_type} model for {version.population}s",
            code="VALIDATION_ERROR",
            details={"field": "leadIds", "modelId": str(version.id)},
        )
    model = load_version_model(session, version=version)
    frame = model_frame(session, version=version, model=model, entity_ids=lead_ids, as_of=as_of)
    explanation = model.explain(frame.frame)
    names = explanation.feature_names
    local: dict[str, dict[str, float]] = {}
    shap: dict[str, dict[str, float]] = {}
    for i, lead_id in enumerate(frame.entity_ids.tolist()):
        row = explanation.contributions[i]
        order = np.argsort(-np.abs(row), kind="stable")
        total = float(np.abs(row).sum())
        key = f"lead_{lead_id}"
        shap[key] = {names[j]: round(float(row[j]), 6) for j in order}
        local[key] = {
            names[j]: round(abs(float(row[j])) / total, 6) if total > 0 else 0.0 for j in order
        }
    return {
        "localImportance": local,
        "shapValues": shap,
        "shapSpace": explanation.space,
        "asOf": iso_z(as_of),
    }
