"""Feature metadata and distributions from the active models' stored statistics (the baseline
each model was trained on), for `GET /api/ml/features`.

A feature used by several active models appears once: its statistics and top-level importance
come from the model where it matters most (highest importance, then the most recently
activated), named in `statisticsFrom`; `models` lists its importance in every active model."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.models import ModelStatus, ModelVersion


def _round(value: Any, digits: int = 6) -> Any:
    return round(float(value), digits) if isinstance(value, int | float) else value


def _entry(
    name: str, spec: dict[str, Any], stats: dict[str, Any], importance: float
) -> dict[str, Any]:
    kind = str(stats.get("kind") or spec.get("kind") or "numeric")
    entry: dict[str, Any] = {
        "name": name,
        "type": kind,
        "description": spec.get("description") or "",
        "category": stats.get("group") or spec.get("group"),
        "importance": _round(importance),
        "missingRate": _round(stats.get("missing_rate")),
    }
    bins = stats.get("bins") or {}
    if kind == "categorical":
        entry["categories"] = [c for c in bins.get("categories") or [] if not c.startswith("__")]
        entry["distribution"] = {
            "bins": [
                {"category": c, "proportion": _round(p)}
                for c, p in zip(
                    bins.get("categories") or [], bins.get("proportions") or [], strict=False
                )
            ],
            "distinct": stats.get("distinct"),
        }
        return entry
    if stats.get("min") is not None:
        entry["range"] = [_round(stats.get("min")), _round(stats.get("max"))]
    edges = bins.get("edges") or []
    entry["distribution"] = {
        "mean": _round(stats.get("mean")),
        "std": _round(stats.get("std")),
        "skewness": _round(stats.get("skew")),
        "p1": _round(stats.get("p1")),
        "p99": _round(stats.get("p99")),
        "bins": [
            {"from": _round(edges[i]), "to": _round(edges[i + 1]), "proportion": _round(p)}
            for i, p in enumerate(bins.get("proportions") or [])
            if i + 1 < len(edges)
        ],
    }
    if kind == "boolean":
        entry["distribution"]["trueRate"] = _round(stats.get("true_rate"))
    if stats.get("unit"):
        entry["unit"] = stats["unit"]
    return entry


def feature_catalog(
    session: Session, *, model_ids: list[int] | None = None
) -> list[dict[str, Any]]:
    """Features of the active models (or of `model_ids`), most important first."""
    query = sa.select(ModelVersion).order_by(ModelVersion.activated_at.desc(), ModelVersion.id)
    if model_ids:
        query = query.where(ModelVersion.id.in_(model_ids))
    else:
        query = query.where(ModelVersion.status == ModelStatus.ACTIVE.value)
    chosen: dict[str, tuple[float, dict[str, Any]]] = {}
    usage: dict[str, list[dict[str, Any]]] = {}
    for version in session.scalars(query):
        specs = {str(s.get("name")): s for s in version.feature_specs or []}
        importance = version.feature_importance or {}
        for name, stats in (version.feature_stats or {}).items():
            share = float(importance.get(name, 0.0))
            usage.setdefault(name, []).append(
                {
                    "modelId": version.id,
                    "predictionType": version.prediction_type,
                    "population": version.population,
                    "importance": round(share, 6),
                }
            )
            if name not in chosen or share > chosen[name][0]:
                entry = _entry(name, specs.get(name, {}), stats, share)
                entry["statisticsFrom"] = version.id
                chosen[name] = (share, entry)
    out = []
    for name, (_, entry) in sorted(chosen.items(), key=lambda kv: (-kv[1][0], kv[0])):
        out.append({**entry, "models": usage[name]})
    return out
