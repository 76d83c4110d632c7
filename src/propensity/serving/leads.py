"""Lead answers beyond `serve`: the documented rule-based CONVERSION scorer, the SCORE derived
from a lead's served CONVERSION, many leads' conversions under a quota, their times to close,
and the valid stored answers that ranked reads rank.

Every "is the stored one still the answer" decision here is `find_valid`'s: a rule-based
CONVERSION is valid for the rule-based scorer (no model, served by "rules"), a SCORE while it
was made from the model that serves the lead's CONVERSION now. Every write goes through
predictions.service.record_predictions (model runs through serve/record_run), and the
function that writes commits, so the next call on any surface finds the answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Required, TypedDict, Unpack

from sqlalchemy.orm import Session

from propensity.features import lead_feature_groups
from propensity.models import Lead, Prediction
from propensity.predictions.lead_rules import score_lead
from propensity.predictions.lead_scores import lead_score, score_breakdown
from propensity.predictions.scoring import Scored
from propensity.predictions.service import record_predictions
from propensity.serving.routing import CHAMPION, RULES, serving_models, serving_models_or_none
from propensity.serving.service import (
    Admit,
    Served,
    Spend,
    current,
    find_valid,
    latest_recorded,
    serve,
    serve_many,
)
from propensity.settings import Settings
from propensity.vocabulary import Population, PredictionType

LEAD = Population.LEAD.value
CONVERSION = PredictionType.CONVERSION
TIME_TO_CLOSE = PredictionType.TIME_TO_CLOSE
SCORE = PredictionType.SCORE


def _share_ms(started: float, rows: int) -> float:
    """Each of `rows` predictions' share of the time since `started` (perf_counter), in ms."""
    return round((time.perf_counter() - started) * 1000 / max(rows, 1), 3)


def _recorded(
    session: Session, *, prediction_type: PredictionType, lead_ids: Sequence[int], now: datetime
) -> dict[int, Prediction]:
    return latest_recorded(
        session,
        prediction_type=prediction_type,
        population=LEAD,
        entity_ids=lead_ids,
        as_of=now,
    )


def _rule_scored(session: Session, *, lead: Lead, now: datetime) -> Scored:
    result = score_lead(lead_feature_groups(session, lead_id=lead.id, as_of=now))
    return Scored(
        entity_id=lead.id,
        external_id=lead.external_id,
        probability=result.probability,
        predicted_value=None,
        confidence=result.confidence,
        outputs=result.outputs(),
        contributions={"groups": {g: float(p) for g, p in result.by_group.items()}},
        explanation=result.explanation(),
        served_by=RULES,
        model_version_id=None,
    )


def rule_answers(
    session: Session,
    *,
    leads: Sequence[Lead],
    now: datetime,
    settings: Settings,
    force: bool = False,
    spend: Spend | None = None,
    admit: Admit | None = None,
) -> dict[int, Served]:
    """Each lead's CONVERSION by the rule-based scorer (predictions/lead_rules.py), for the
    lead-ml document's `ruleBasedOnly`: the stored rule-based one while valid, otherwise
    scored from the lead's features, recorded without a model and committed. `spend` and
    `admit` as in serve_many."""
    by_id = {lead.id: lead for lead in leads}
    rules: dict[int, int | None] = dict.fromkeys(by_id)
    cached = (
        {}
        if force
        else find_valid(
            session, prediction_type=CONVERSION, population=LEAD, serving=rules, now=now
        )
    )
    out = {i: Served(p, None, RULES, True) for i, p in cached.items()}
    missing = [i for i in by_id if i not in cached]
    if admit is not None and missing:
        missing = admit(missing)
    if not missing:
        return out
    if spend is not None:
        spend(len(missing))
    started = time.perf_counter()
    scored = [_rule_scored(session, lead=by_id[i], now=now) for i in missing]
    record_predictions(
        session,
        prediction_type=CONVERSION.value,
        population=LEAD,
        as_of=now,
        results=scored,
        settings=settings,
        latency_ms=_share_ms(started, len(scored)),
    )
    fresh = _recorded(session, prediction_type=CONVERSION, lead_ids=missing, now=now)
    session.commit()
    out.update({i: Served(fresh[i], None, RULES, False) for i in missing})
    return out


def serve_conversion(
    session: Session,
    *,
    lead: Lead,
    now: datetime,
    settings: Settings,
    force: bool = False,
    rule_based: bool = False,
    spend: Spend | None = None,
) -> Served:
    """The lead's CONVERSION answer: by the model serving it (serve), or with `rule_based` by
    the rule-based scorer (rule_answers)."""
    if rule_based:
        return rule_answers(
            session, leads=[lead], now=now, settings=settings, force=force, spend=spend
        )[lead.id]
    return _by_model_conversion(
        session, lead=lead, now=now, settings=settings, force=force, spend=spend
    )


@dataclass(frozen=True)
class Answers:
    """Many leads' CONVERSION answers; a lead the quota refused has none (nothing recorded)."""

    served: dict[int, Served]

    @property
    def fresh(self) -> int:
        return sum(1 for s in self.served.values() if not s.cached)

    @property
    def cached(self) -> int:
        return sum(1 for s in self.served.values() if s.cached)


def serve_conversions(
    session: Session,
    *,
    leads: Sequence[Lead],
    now: datetime,
    settings: Settings,
    force: bool = False,
    rule_based: bool = False,
    admit: Admit | None = None,
) -> Answers:
    """Many leads' CONVERSION answers (the lead-ml document's bulk request): as
    serve_conversion for each, in one scoring run, where `admit` decides which of the leads
    without a valid answer may be scored now (a rate limit cut part-way); the others, and
    leads that cannot be scored now, get no answer."""
    if rule_based:
        return Answers(
            served=rule_answers(
                session, leads=leads, now=now, settings=settings, force=force, admit=admit
            )
        )
    return Answers(
        served=serve_many(
            session,
            prediction_type=CONVERSION,
            population=LEAD,
            entity_ids=[lead.id for lead in leads],
            now=now,
            settings=settings,
            force=force,
            admit=admit,
        )
    )


def times_to_close(
    session: Session, *, lead_ids: Sequence[int], now: datetime, settings: Settings
) -> dict[int, Prediction]:
    """Each lead's TIME_TO_CLOSE answer (serve_many, not charged to a quota: it comes with
    the CONVERSION answer, which quotes its days) when a TIME_TO_CLOSE model is trained;
    empty otherwise."""
    if not lead_ids:
        return {}
    if serving_models_or_none(session, prediction_type=TIME_TO_CLOSE, population=LEAD) is None:
        return {}
    served = serve_many(
        session,
        prediction_type=TIME_TO_CLOSE,
        population=LEAD,
        entity_ids=lead_ids,
        now=now,
        settings=settings,
    )
    return {i: s.prediction for i, s in served.items()}


def _score_scored(lead: Lead, source: Prediction) -> Scored:
    probability = float(source.probability or 0.0)
    value = lead_score(probability)
    groups = (source.contributions or {}).get("groups") or {}
    return Scored(
        entity_id=lead.id,
        external_id=lead.external_id,
        probability=probability,
        predicted_value=float(value),
        confidence=float(source.confidence or 0.0),
        outputs={
            **(source.outputs or {}),
            "scoreBreakdown": score_breakdown(value, groups),
            "conversionPredictionId": source.id,
        },
        contributions={"groups": groups},
        explanation=source.explanation,
        served_by=source.served_by or CHAMPION,
        # The model that made the conversion it derives from (a challenger's, when routed).
        model_version_id=source.model_version_id,
    )


# One lead's answer of a type (serve_time, serve_score), as (session, *, lead, now, settings,
# force, spend).
LeadServer = Callable[..., Served]


class LeadOptions(TypedDict, total=False):
    """How a lead is answered: serve's settings and options."""

    settings: Required[Settings]
    force: bool
    spend: Spend | None


def _by_model(prediction_type: PredictionType) -> LeadServer:
    """A lead's answer of this type by the model that serves it (serve)."""

    def answer(
        session: Session, *, lead: Lead, now: datetime, **options: Unpack[LeadOptions]
    ) -> Served:
        return serve(
            session,
            prediction_type=prediction_type,
            population=LEAD,
            entity_id=lead.id,
            now=now,
            **options,
        )

    return answer


# The lead's TIME_TO_CLOSE answer; its CONVERSION one when asked of the model.
serve_time = _by_model(TIME_TO_CLOSE)
_by_model_conversion = _by_model(CONVERSION)


def serve_score(
    session: Session,
    *,
    lead: Lead,
    now: datetime,
    settings: Settings,
    force: bool = False,
    spend: Spend | None = None,
) -> Served:
    """The lead's SCORE (0-100 and its breakdown by feature group, predictions/lead_scores.py):
    the stored one while valid, i.e. made from the model that serves the lead's CONVERSION
    now; otherwise derived from the served CONVERSION (serve, scored afresh too when
    `force`; `spend` is charged only when that conversion is fresh), recorded and
    committed."""
    version, role = serving_models(session, prediction_type=SCORE, population=LEAD).for_entity(
        lead.id
    )
    if not force:
        found = find_valid(
            session, prediction_type=SCORE, population=LEAD, serving={lead.id: version.id}, now=now
        )
        if lead.id in found:
            return Served(found[lead.id], version, role, True)
    started = time.perf_counter()
    conversion = serve_conversion(
        session, lead=lead, now=now, settings=settings, force=force, spend=spend
    )
    record_predictions(
        session,
        prediction_type=SCORE.value,
        population=LEAD,
        as_of=now,
        results=[_score_scored(lead, conversion.prediction)],
        settings=settings,
        latency_ms=_share_ms(started, 1),
    )
    recorded = _recorded(session, prediction_type=SCORE, lead_ids=[lead.id], now=now)
    session.commit()
    return Served(recorded[lead.id], conversion.model, conversion.role, False)


def quoted_time(session: Session, *, lead_id: int, now: datetime) -> Prediction | None:
    """The lead's valid TIME_TO_CLOSE answer, if any, without scoring: the days its
    CONVERSION answer quotes."""
    stored = current(
        session, prediction_type=TIME_TO_CLOSE, population=LEAD, entity_id=lead_id, now=now
    )
    return None if stored is None else stored.prediction
