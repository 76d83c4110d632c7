"""Which model serves each lead now, for the lead-ml and ML-platform surfaces: the active
model, or during a running champion/challenger deployment the challenger for the leads routed
to it (ADR 0008, the same sticky routing as predictions.scoring). A stored prediction is
reusable only when it was made by the model that serves its lead now; comparing with the
active model alone re-scores every challenger lead on every request (a new prediction, and a
rate-limit unit, each time) and misses the challenger's fresh predictions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from propensity.models import ModelVersion
from propensity.registry.routing import running_deployment, to_challenger

POPULATION = "lead"


def serving_model_ids(
    session: Session, *, model_id: int, prediction_type: str, lead_ids: Sequence[int]
) -> dict[int, int]:
    """Lead id -> the id of the model version that scores it now; `model_id` is the active
    model of the type."""
    deployment = running_deployment(session, prediction_type=prediction_type, population=POPULATION)
    if deployment is None or deployment.champion_version_id != model_id:
        return dict.fromkeys(lead_ids, model_id)
    challenger = session.get(ModelVersion, deployment.challenger_version_id)
    # As predictions.scoring.challenger_route: a challenger without an artifact serves nobody.
    if challenger is None or challenger.artifact_hash is None:
        return dict.fromkeys(lead_ids, model_id)
    routed = to_challenger(deployment.id, deployment.traffic_split, lead_ids)
    return {
        lead_id: challenger.id if to_it else model_id
        for lead_id, to_it in zip(lead_ids, routed, strict=True)
    }


def serving_model_id(session: Session, *, model_id: int, prediction_type: str, lead_id: int) -> int:
    return serving_model_ids(
        session, model_id=model_id, prediction_type=prediction_type, lead_ids=[lead_id]
    )[lead_id]
