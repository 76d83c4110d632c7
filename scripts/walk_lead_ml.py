"""Every endpoint of spec/lead-ml.md (`/api/lead-scoring`), with the error cases it lists.

Writes only what a client of the document writes: fresh predictions (forceRefresh; a
rule-based one is followed by a model one, so the lead's current answer stays the model's),
the PRIORITY predictions bulk-predict records, and one manual validation, of a prediction
this walk has just made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from walk_checks import (
    Json,
    Walker,
    close,
    each,
    keys,
    lead_error,
    non_empty_list,
    number,
    one_of,
    present,
    text,
)

BASE = "/api/lead-scoring"
LEVELS = ("HOT", "WARM", "COLD")
TIERS = ("top", "high", "medium", "low")
IMPACTS = ("high", "medium", "low")
GROUPS = ("demographic", "behavioral", "temporal", "engagement")
FEATURES = {
    "demographic": (
        "hasCompany",
        "hasTitle",
        "hasPhone",
        "emailDomainType",
        "titleSeniority",
        "companySizeEstimate",
        "emailDomain",
    ),
    "behavioral": (
        "emailOpenCount",
        "emailClickCount",
        "pageViewCount",
        "formSubmitCount",
        "meetingCount",
        "callCount",
        "activityVelocity",
        "channelDiversity",
        "highValueActionCount",
        "totalActivities",
    ),
    "temporal": (
        "daysSinceCreated",
        "daysSinceLastActivity",
        "recencyScore",
        "activityBurst",
        "dayPattern",
        "timePattern",
        "leadAgeWeeks",
    ),
    "engagement": (
        "totalEngagementScore",
        "emailOpenRate",
        "emailClickRate",
        "sequenceEngagement",
        "avgResponseTime",
        "isInActiveSequence",
        "currentSequenceStep",
    ),
}
# Features the lead may honestly not have: no email replies, not in a sequence.
MAY_BE_NULL = {"avgResponseTime", "currentSequenceStep"}


def risk_factor(item: Json, where: str) -> list[str]:
    # trend may be null: a factor such as the lead's age has no direction.
    return (
        text(item, "factor", where=where)
        + one_of(item, "impact", IMPACTS, where=where)
        + text(item, "description", where=where)
        + keys(item, "currentValue", "trend", where=where)
    )


def recommendation(item: Json, where: str) -> list[str]:
    return (
        one_of(item, "priority", ("high", "medium", "low"), where=where)
        + text(item, "action", where=where)
        + text(item, "rationale", where=where)
        + text(item, "expectedImpact", where=where)
        + text(item, "timeframe", where=where)
    )


def common(p: Json, kind: str, *, explained: bool = True) -> list[str]:
    """The fields every prediction shows; llmMetadata is null by design (ADR 0007 §10)."""
    problems = one_of(p, "predictionType", [kind], where="prediction")
    problems += number(p, "probability", 0, 1, where="prediction")
    problems += number(p, "confidence", 0, 1, where="prediction")
    problems += number(p, "predictionId", 1, where="prediction")
    problems += each(p.get("riskFactors"), risk_factor, where="riskFactors")
    problems += each(p.get("recommendations"), recommendation, where="recommendations")
    problems += non_empty_list(p, "recommendations", where="prediction")
    if explained:
        problems += text(p, "explanation", where="prediction")
    return problems + keys(p, "llmMetadata", where="prediction")


def conversion(p: Json, *, explained: bool = True) -> list[str]:
    problems = common(p, "CONVERSION", explained=explained)
    problems += number(p, "predictedDays", 0, 365, where="prediction")
    problems += one_of(p, "predictedScoreLevel", LEVELS, where="prediction")
    return problems + keys(p, "predictedValue", where="prediction")


def time_to_close(p: Json) -> list[str]:
    problems = common(p, "TIME_TO_CLOSE") + number(p, "predictedDays", 0, 365, where="prediction")
    interval = p.get("confidenceInterval")
    problems += number(interval, "low", 0, 365, where="confidenceInterval")
    problems += number(interval, "high", 0, 365, where="confidenceInterval")
    if not problems and not interval["low"] <= p["predictedDays"] <= interval["high"]:
        problems.append(f"predictedDays {p['predictedDays']} outside {interval}")
    return problems


def score(p: Json) -> list[str]:
    problems = common(p, "SCORE") + number(p, "predictedScore", 0, 100, where="prediction")
    breakdown = p.get("scoreBreakdown")
    for group in GROUPS:
        problems += number(breakdown, group, 0, 100, where="scoreBreakdown")
    if not problems:
        total = sum(breakdown[g] for g in GROUPS)
        if total != p["predictedScore"]:
            problems.append(f"scoreBreakdown sums to {total}, predictedScore {p['predictedScore']}")
        expected = round(100 * p["probability"])
        if abs(expected - p["predictedScore"]) > 1:
            problems.append(f"predictedScore {p['predictedScore']} != 100 x probability")
    return problems


def ranked_lead(item: Json, where: str) -> list[str]:
    problems = number(item, "leadId", 1, where=where) + text(item, "email", where=where)
    problems += keys(item, "name", "company", "title", where=where)
    problems += number(item, "score", 0, 100, where=where)
    problems += one_of(item, "scoreLevel", LEVELS, where=where)
    problems += number(item, "priorityRank", 1, where=where)
    problems += one_of(item, "priorityTier", TIERS, where=where)
    problems += number(item, "priorityScore", 0, 100, where=where)
    problems += number(item, "conversionProbability", 0, 1, where=where)
    return problems + text(item, "reasoning", where=where)


def ranks_ascend(items: list[dict[str, Any]]) -> list[str]:
    ranks = [i["priorityRank"] for i in items]
    return [] if ranks == sorted(ranks) else [f"priorityRank not ascending: {ranks[:10]}"]


def of_prediction(check: Callable[[Json], list[str]]) -> Callable[[Json], list[str]]:
    return lambda body: check(body["prediction"])


class LeadWalk:
    def __init__(self, walker: Walker, config_id: int) -> None:
        self.w = walker
        self.config = config_id
        self.lead_ids: list[int] = []
        self.prediction_id: int | None = None

    def run(self) -> None:
        self.ranked()
        if not self.lead_ids:
            self.w.fail("GET", f"{BASE}/{self.config}/ml/ranked-leads", "no ranked leads to use")
            return
        lead = self.lead_ids[0]
        self.predict(lead)
        self.latest(lead)
        self.predict_time(lead)
        self.predict_score(lead)
        self.features(lead)
        self.bulk()
        self.top()
        self.tiers()
        self.validate()
        self.accuracy()
        self.importance()
        self.errors()

    def ranked(self) -> None:
        def check(body: Json) -> list[str]:
            rankings = body.get("rankings")
            problems = non_empty_list(body, "rankings") + each(rankings, ranked_lead, where="r")
            problems += ranks_ascend(rankings or [])
            # Insights describe the top tier of the whole ranking (ADR 0007), not this page.
            insights = body.get("insights")
            problems += number(insights, "topLeadCount", 1, where="insights")
            problems += number(insights, "avgConversionProbability", 0, 1, where="insights")
            problems += non_empty_list(insights, "commonPatterns", where="insights")
            labels = [p.split(" (")[0] for p in (insights or {}).get("commonPatterns") or []]
            if len(set(labels)) != len(labels):
                problems.append(f"commonPatterns repeat a trait: {labels}")
            top = [r for r in rankings or [] if r.get("priorityTier") == "top"]
            if not problems and len(top) > insights["topLeadCount"]:
                problems.append(f"{len(top)} top-tier leads listed, topLeadCount smaller")
            if not problems and top:
                mean = sum(r["conversionProbability"] for r in top) / len(top)
                if insights["topLeadCount"] == len(top) and not close(
                    mean, insights["avgConversionProbability"], 1e-3
                ):
                    problems.append(f"avgConversionProbability != top tier mean {mean:.4f}")
            return problems + keys(body, "llmMetadata")

        body = self.w.call(
            "GET",
            f"{BASE}/{self.config}/ml/ranked-leads",
            params={"limit": 30, "minScore": 0, "useLLM": "true"},
            expect=200,
            check=check,
            note="30 ranked leads, insights consistent",
        )
        if isinstance(body, dict):
            self.lead_ids = [int(r["leadId"]) for r in body.get("rankings") or []]
        self.w.call(
            "GET",
            f"{BASE}/{self.config}/ml/ranked-leads",
            params={"limit": 5, "minProbability": 0.2},
            expect=200,
            check=lambda b: [
                f"conversionProbability {r['conversionProbability']} < minProbability 0.2"
                for r in b["rankings"]
                if r["conversionProbability"] < 0.2
            ],
            note="minProbability filter holds",
        )

    def predict(self, lead: int) -> None:
        path = f"{BASE}/leads/{lead}/ml/predict"
        body = self.w.call(
            "POST",
            path,
            json={"forceRefresh": True, "ruleBasedOnly": False, "includeExplanation": True},
            expect=200,
            check=lambda b: conversion(b["prediction"]),
            note="fresh model conversion with days, level, factors, recommendations",
        )
        if isinstance(body, dict) and isinstance(body.get("prediction"), dict):
            self.prediction_id = body["prediction"].get("predictionId")
        self.w.call(
            "POST",
            path,
            json={"includeExplanation": False},
            expect=200,
            check=lambda b: (
                conversion(b["prediction"], explained=False)
                + (["explanation sent although includeExplanation is false"])
                * bool(b["prediction"].get("explanation"))
            ),
            note="cached answer, no explanation when not asked",
        )
        self.w.call(
            "POST",
            path,
            json={"ruleBasedOnly": True},
            expect=200,
            check=lambda b: (
                conversion(b["prediction"])
                + one_of(b["prediction"], "method", ["rule_based"], where="prediction")
            ),
            note="rule-based scorer",
        )
        # The rule-based answer superseded the model's: make the model's current again, so the
        # walk leaves the lead as it found it (and later steps use a model prediction).
        body = self.w.call(
            "POST",
            path,
            json={"forceRefresh": True},
            expect=200,
            check=lambda b: (
                conversion(b["prediction"])
                + one_of(b["prediction"], "method", ["model"], where="prediction")
            ),
            note="the model's answer current again",
        )
        if isinstance(body, dict) and isinstance(body.get("prediction"), dict):
            self.prediction_id = body["prediction"].get("predictionId")

    def latest(self, lead: int) -> None:
        def check(body: Json) -> list[str]:
            problems = one_of(body, "id", [self.prediction_id]) + one_of(body, "isExpired", [False])
            return problems + conversion(body["prediction"])

        self.w.call(
            "GET",
            f"{BASE}/leads/{lead}/ml/prediction",
            params={"type": "CONVERSION"},
            expect=200,
            check=check,
            note="latest CONVERSION, not expired",
        )

    def predict_time(self, lead: int) -> None:
        self.w.call(
            "POST",
            f"{BASE}/leads/{lead}/ml/predict-time",
            json={"forceRefresh": True},
            expect=200,
            check=lambda b: time_to_close(b["prediction"]),
            note="days inside the p10-p90 interval",
        )

    def predict_score(self, lead: int) -> None:
        self.w.call(
            "POST",
            f"{BASE}/leads/{lead}/ml/predict-score",
            json={"forceRefresh": True},
            expect=200,
            check=lambda b: score(b["prediction"]),
            note="breakdown sums to the score",
        )
        for kind, check in (("SCORE", score), ("TIME_TO_CLOSE", time_to_close)):
            self.w.call(
                "GET",
                f"{BASE}/leads/{lead}/ml/prediction",
                params={"type": kind},
                expect=200,
                check=of_prediction(check),
                note=f"latest {kind}",
            )

    def features(self, lead: int) -> None:
        def check(body: Json) -> list[str]:
            groups = body.get("features")
            problems: list[str] = []
            for group, names in FEATURES.items():
                values = groups.get(group) if isinstance(groups, dict) else None
                problems += keys(values, *names, where=group)
                problems += present(
                    values, *(n for n in names if n not in MAY_BE_NULL), where=group
                )
            return problems

        self.w.call(
            "GET",
            f"{BASE}/leads/{lead}/ml/features",
            expect=200,
            check=check,
            note="all four groups with every documented feature",
        )

    def bulk(self) -> None:
        def entry(item: Json, where: str) -> list[str]:
            problems = number(item, "leadId", 1, where=where) + keys(item, "result", "error")
            if (item.get("result") is None) == (item.get("error") is None):
                problems.append(f"{where}: exactly one of result and error expected")
            return problems

        def check(body: Json) -> list[str]:
            problems = number(body, "processed", 1, 5) + number(body, "successful", 0)
            problems += number(body, "failed", 0)
            problems += each(body.get("predictions"), entry, where="predictions")
            if not problems:
                if body["successful"] + body["failed"] != body["processed"]:
                    problems.append("successful + failed != processed")
                if len(body["predictions"]) != body["processed"]:
                    problems.append("predictions listed != processed")
            return problems

        body = self.w.call(
            "POST",
            f"{BASE}/{self.config}/ml/bulk-predict",
            json={"limit": 5, "minScore": 0, "forceRefresh": False, "ruleBasedOnly": False},
            expect=200,
            check=check,
            note="5 leads, counts add up",
        )
        answered = [p["leadId"] for p in (body or {}).get("predictions") or [] if p.get("result")]
        if answered:
            self.w.call(
                "GET",
                f"{BASE}/leads/{answered[0]}/ml/prediction",
                params={"type": "PRIORITY"},
                expect=200,
                check=lambda b: (
                    common(b["prediction"], "PRIORITY")
                    + number(b["prediction"], "priorityRank", 1, where="prediction")
                    + one_of(b["prediction"], "priorityTier", TIERS, where="prediction")
                    + number(b["prediction"], "priorityScore", 0, 100, where="prediction")
                ),
                note="the PRIORITY prediction bulk-predict recorded",
            )

    def top(self) -> None:
        def check(body: Json) -> list[str]:
            leads = body.get("leads")
            problems = non_empty_list(body, "leads") + each(leads, ranked_lead, where="leads")
            if isinstance(leads, list) and len(leads) > 5:
                problems.append(f"{len(leads)} leads for n=5")
            return problems + ranks_ascend(leads or [])

        self.w.call(
            "GET",
            f"{BASE}/{self.config}/ml/top-leads",
            params={"n": 5},
            expect=200,
            check=check,
            note="at most n leads, best first",
        )

    def tiers(self) -> None:
        def check(body: Json) -> list[str]:
            leads = body.get("leads")
            problems = non_empty_list(body, "leads") + each(leads, ranked_lead, where="leads")
            return problems + [
                f"lead {x['leadId']} is {x['priorityTier']}"
                for x in leads or []
                if x.get("priorityTier") != "high"
            ]

        path = f"{BASE}/{self.config}/ml/leads-by-tier"
        self.w.call(
            "GET", path, params={"tier": "high"}, expect=200, check=check, note="only high tier"
        )
        self.w.call(
            "GET",
            path,
            params={"tier": "platinum"},
            expect=400,
            check=lead_error("BAD_REQUEST"),
            note="invalid tier",
        )

    def validate(self) -> None:
        if self.prediction_id is None:
            self.w.fail("POST", f"{BASE}/predictions/:id/validate", "no prediction id to validate")
            return
        path = f"{BASE}/predictions/{self.prediction_id}/validate"
        self.w.call(
            "POST",
            path,
            json={"wasAccurate": True},
            expect=200,
            check=lambda b: one_of(b, "success", [True]),
            note=f"this walk's prediction {self.prediction_id}",
        )
        self.w.call(
            "POST",
            path,
            json={},
            expect=400,
            check=lead_error("BAD_REQUEST"),
            note="wasAccurate missing",
        )
        self.w.call(
            "POST",
            f"{BASE}/predictions/999999999/validate",
            json={"wasAccurate": True},
            expect=404,
            check=lead_error("NOT_FOUND"),
            note="unknown prediction",
        )

    def accuracy(self) -> None:
        def check(body: Json) -> list[str]:
            problems = number(body, "totalPredictions", 1) + number(body, "validatedCount", 1)
            problems += number(body, "accurateCount", 0) + number(body, "accuracy", 0, 1)
            by_type = body.get("byType")
            if not isinstance(by_type, dict) or "CONVERSION" not in by_type:
                return [*problems, "byType.CONVERSION missing"]
            for kind, entry in by_type.items():
                problems += number(entry, "total", 0, where=kind)
                problems += number(entry, "accurate", 0, entry.get("total", 0), where=kind)
                problems += keys(entry, "accuracy", where=kind)
            if problems:
                return problems
            if not body["accurateCount"] <= body["validatedCount"] <= body["totalPredictions"]:
                problems.append("accurateCount <= validatedCount <= totalPredictions fails")
            if not close(body["accuracy"], body["accurateCount"] / body["validatedCount"], 1e-3):
                problems.append("accuracy != accurateCount / validatedCount")
            if sum(e["total"] for e in by_type.values()) != body["validatedCount"]:
                problems.append("byType totals do not sum to validatedCount")
            return problems

        self.w.call(
            "GET",
            f"{BASE}/{self.config}/ml/accuracy",
            expect=200,
            check=check,
            note="counts and ratios consistent",
        )
        self.w.call(
            "GET",
            f"{BASE}/{self.config}/ml/accuracy",
            params={"startDate": "2026-01-01", "endDate": "not-a-date"},
            expect=400,
            check=lead_error("BAD_REQUEST"),
            note="invalid endDate",
        )

    def importance(self) -> None:
        def item(entry: Json, where: str) -> list[str]:
            return (
                text(entry, "name", where=where)
                + number(entry, "importance", 0, 1, where=where)
                + one_of(entry, "category", GROUPS, where=where)
            )

        def check(body: Json) -> list[str]:
            entries = body.get("importance")
            problems = non_empty_list(body, "importance") + each(entries, item, where="importance")
            if not problems:
                values = [e["importance"] for e in entries]
                if values != sorted(values, reverse=True):
                    problems.append("importance not sorted, most important first")
                if sum(values) > 1.0001:
                    problems.append(f"importance sums to {sum(values):.4f} > 1")
            return problems

        self.w.call(
            "GET",
            f"{BASE}/{self.config}/ml/feature-importance",
            expect=200,
            check=check,
            note="named, categorised, sorted shares",
        )

    def no_prediction(self) -> None:
        """The document's 404 "No prediction found": a ranked lead without a SCORE
        prediction (looked for quietly, so earlier walks' SCORE predictions do not count)."""
        for lead in reversed(self.lead_ids[1:]):
            path = f"{BASE}/leads/{lead}/ml/prediction"
            if self.w.client.get(path, params={"type": "SCORE"}).status_code == 404:
                self.w.call(
                    "GET",
                    path,
                    params={"type": "SCORE"},
                    expect=404,
                    check=lead_error("NOT_FOUND"),
                    note="no prediction of the type",
                )
                return
        print("SKIP   GET    .../ml/prediction 404: every ranked lead has a SCORE prediction")

    def errors(self) -> None:
        self.no_prediction()
        lead = self.lead_ids[-1]
        self.w.call(
            "GET",
            f"{BASE}/leads/abc/ml/prediction",
            expect=400,
            check=lead_error("BAD_REQUEST"),
            note="invalid lead ID",
        )
        self.w.call(
            "GET",
            f"{BASE}/leads/{lead}/ml/prediction",
            params={"type": "FORECAST"},
            expect=400,
            check=lead_error("BAD_REQUEST"),
            note="invalid type",
        )
        self.w.call(
            "GET",
            f"{BASE}/leads/999999999/ml/prediction",
            expect=404,
            check=lead_error("NOT_FOUND"),
            note="unknown lead",
        )
        self.w.call(
            "GET",
            f"{BASE}/999999/ml/top-leads",
            expect=404,
            check=lead_error("NOT_FOUND"),
            note="unknown configuration",
        )
        self.w.call(
            "GET",
            f"{BASE}/{self.config}/ml/top-leads",
            headers={"Authorization": ""},
            expect=401,
            check=lead_error("UNAUTHORIZED"),
            note="no credentials",
        )
        self.w.call(
            "GET",
            f"{BASE}/{self.config}/ml/top-leads",
            headers={"Authorization": "Bearer not-a-token"},
            expect=401,
            check=lead_error("UNAUTHORIZED"),
            note="invalid credentials",
        )
        self.w.call(
            "GET",
            f"{BASE}/{self.config}/ml/top-leads",
            headers={"X-Tenant-ID": "not-this-tenant"},
            expect=403,
            check=lead_error("FORBIDDEN"),
            note="X-Tenant-ID of another tenant",
        )
