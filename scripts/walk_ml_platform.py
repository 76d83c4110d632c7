"""Every endpoint of spec/ml-platform.md (`/api/ml`), with the error cases it lists.

What it changes it undoes: the configuration PUT is restored, the trained challenger is
deployed as a 10% A/B test and rolled back at once, and the models this walk trains are
retired and deleted; a status change to active is reverted by the next request. Predictions
it makes stay, as any client's would.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from walk_checks import (
    Json,
    Walker,
    close,
    each,
    keys,
    ml_error,
    ml_ok,
    non_empty_list,
    number,
    one_of,
    present,
    text,
)

BASE = "/api/ml"
UNKNOWN_LEAD = 999_999_999
LABELLED = ("scoring", "classification")


def model_summary(m: Json, where: str) -> list[str]:
    problems = present(m, "id", "name", "type", "algorithm", "status", "createdAt", where=where)
    problems += present(m, "version", "metrics", where=where) + keys(m, "lastTrained", where=where)
    if m.get("type") in LABELLED and m.get("status") != "training":
        # Accuracy and the four classification metrics exist for labelled models only.
        problems += number(m, "accuracy", 0, 1, where=where)
        for name in ("precision", "recall", "f1Score", "auc"):
            problems += number(m.get("metrics"), name, 0, 1, where=f"{where}.metrics")
    return problems


def training_state(d: Json) -> list[str]:
    problems = present(d, "jobId", "status", "queuedAt") + number(d, "progress", 0, 1)
    problems += one_of(d, "status", ("queued", "training", "completed"))
    problems += keys(d, "currentStage", "metrics", "startedAt", "estimatedCompletion")
    if d.get("status") == "training":
        problems += present(d, "startedAt", "currentStage", "estimatedCompletion")
    if d.get("status") == "completed":
        problems += present(d, "metrics", "modelId", "startedAt", "estimatedCompletion")
        # Both trainings here are scoring models: their held-out AUC, by the document's name.
        problems += number(d.get("metrics"), "auc", 0, 1, where="metrics")
    return problems


def active_model(model: str) -> Callable[[Json], list[str]]:
    return lambda d: one_of(d, "status", ["active"]) + one_of(d, "id", [model])


def configured(model: str) -> Callable[[Json], list[str]]:
    return lambda d: one_of(d, "activeModel", [model])


class MlWalk:
    def __init__(self, walker: Walker, lead_ids: list[int], *, train_timeout: float) -> None:
        self.w = walker
        self.leads = lead_ids
        self.train_timeout = train_timeout
        self.champion: str | None = None
        self.trained: list[tuple[str, str]] = []  # (jobId, modelId) this walk queued
        self.lead_features: dict[str, Any] = {}
        self.champion_version: str | None = None

    def run(self) -> None:
        self.models()
        if self.champion is None:
            self.w.fail("GET", f"{BASE}/models", "no active scoring (CONVERSION) model")
            return
        self.create_and_retrain()  # training runs while the other endpoints are walked
        self.config()
        self.score()
        self.batch()
        self.conversion()
        self.market()
        self.monitoring()
        self.features()
        self.analytics()
        challenger = self.follow_training()
        if challenger is not None:
            self.compare(challenger)
            self.activate(challenger)
            self.deploy(challenger)
        self.clean_up()
        self.errors()

    # --- registry ------------------------------------------------------------------------

    def models(self) -> None:
        def listing(d: Json) -> list[str]:
            problems = each(d, model_summary, where="data")
            return problems + non_empty_list({"data": d}, "data")

        body = self.w.call(
            "GET",
            f"{BASE}/models",
            expect=200,
            check=lambda b: ml_ok(listing)(b) + self.paged(b),
            note="every model with metrics, pagination consistent",
        )
        if isinstance(body, dict):
            active = [
                m
                for m in body.get("data") or []
                if m.get("type") == "scoring" and m.get("status") == "active"
            ]
            self.champion = active[0]["id"] if active else None
            self.champion_version = active[0]["version"] if active else None
        self.w.call(
            "GET",
            f"{BASE}/models",
            params={"status": "active", "type": "scoring"},
            expect=200,
            check=ml_ok(
                lambda d: (
                    [
                        f"model {m['id']} is {m['type']}/{m['status']}"
                        for m in d
                        if (m["type"], m["status"]) != ("scoring", "active")
                    ]
                    + non_empty_list({"data": d}, "data")
                )
            ),
            note="status and type filters hold",
        )
        if self.champion is not None:
            self.detail(self.champion)

    @staticmethod
    def paged(body: Json) -> list[str]:
        page = body.get("pagination")
        problems = number(page, "page", 1, where="pagination") + number(page, "limit", 1)
        problems += number(page, "total", 0, where="pagination")
        problems += number(page, "totalPages", 1, where="pagination")
        if not problems and page["total"] <= page["limit"] and len(body["data"]) != page["total"]:
            problems.append(f"{len(body['data'])} listed, pagination.total {page['total']}")
        return problems

    def detail(self, model_id: str) -> None:
        def check(d: Json) -> list[str]:
            problems = model_summary(d, "data") + keys(d, "description")
            problems += present(d, "framework", "hyperparameters", "featureImportance")
            problems += non_empty_list({"f": list(d.get("featureImportance") or {})}, "f")
            metrics = d.get("metrics")
            for name in ("testAccuracy", "precision", "recall", "f1Score", "auc"):
                problems += number(metrics, name, 0, 1, where="metrics")
            data = d.get("trainingData")
            for name in ("totalSamples", "trainSamples", "testSamples", "featureCount"):
                problems += number(data, name, 1, where="trainingData")
            if not problems:
                parts = (
                    data["trainSamples"] + data["testSamples"] + data.get("validationSamples", 0)
                )
                if parts != data["totalSamples"]:
                    problems.append(f"train+validation+test {parts} != {data['totalSamples']}")
            return problems

        self.w.call(
            "GET",
            f"{BASE}/models/{model_id}",
            expect=200,
            check=ml_ok(check),
            note="hyperparameters, importance, metrics, training data add up",
        )

    def create_and_retrain(self) -> None:
        self.w.call(
            "POST",
            f"{BASE}/models",
            json={
                "name": "Lead Scoring v3.0",
                "type": "scoring",
                "algorithm": "neural_network",
                "hyperparameters": {"layers": [64, 32, 16], "learningRate": 0.001},
            },
            expect=400,
            check=ml_error("VALIDATION_ERROR"),
            note="the document's neural_network is not offered: refused, nothing queued",
        )
        created = self.w.call(
            "POST",
            f"{BASE}/models",
            json={
                "name": "Walk challenger",
                "description": "Trained by scripts/walk_surfaces.py; deleted at the end",
                "type": "scoring",
                "algorithm": "xgboost",
                "hyperparameters": {"maxDepth": 3, "learningRate": 0.1},
                "trainingConfig": {"validationSplit": 0.2, "earlyStopping": True},
            },
            expect=202,
            check=ml_ok(
                lambda d: (
                    present(d, "modelId", "jobId", "status", "queuedAt")
                    + one_of(d, "status", ["queued"])
                )
            ),
            note="queued as a training job",
        )
        retrained = self.w.call(
            "POST",
            f"{BASE}/models/{self.champion}/retrain",
            json={
                "reason": "walk: retrain endpoint check",
                "priority": "high",
                "validationSplit": 0.2,
                "hyperparameterTuning": True,
            },
            expect=202,
            check=ml_ok(
                lambda d: (
                    present(d, "jobId", "modelId", "status", "queuedAt", "estimatedDuration")
                    + one_of(d, "status", ["queued"])
                    + one_of(d, "modelId", [self.champion])
                    + one_of(
                        {"f": [f["field"] for f in d.get("notApplied") or []]},
                        "f",
                        [["priority", "hyperparameterTuning"]],
                        where="notApplied",
                    )
                )
            ),
            note="queued, names the model retrained",
        )
        for body, key in ((created, "modelId"), (retrained, "newModelId")):
            if isinstance(body, dict) and isinstance(body.get("data"), dict):
                self.trained.append((body["data"]["jobId"], str(body["data"].get(key))))

    def follow_training(self) -> str | None:
        """Polls each training job until it ends; returns the created model's id when it
        trained. The first poll of each job and the final one are checked and printed."""
        if not self.trained:
            return None
        for job_id, _ in self.trained:
            path = f"{BASE}/training/{job_id}/status"
            self.w.call("GET", path, expect=200, check=ml_ok(training_state), note="while training")
        deadline = time.monotonic() + self.train_timeout
        pending = {job_id for job_id, _ in self.trained}
        while pending and time.monotonic() < deadline:
            time.sleep(5)
            for job_id in sorted(pending):
                status = self.w.client.get(f"{BASE}/training/{job_id}/status").json()
                if status.get("data", {}).get("status") not in ("queued", "training"):
                    pending.discard(job_id)
        for job_id, _ in self.trained:
            path = f"{BASE}/training/{job_id}/status"
            if job_id in pending:
                self.w.fail("GET", path, f"not finished after {self.train_timeout:.0f} s")
                continue
            self.w.call(
                "GET",
                path,
                expect=200,
                check=ml_ok(
                    lambda d: (
                        training_state(d)
                        + one_of(d, "status", ["completed"])
                        + number(d, "progress", 1, 1)
                    )
                ),
                note="completed with metrics",
            )
        created_job, created_model = self.trained[0]
        if created_job in pending:
            return None
        self.detail(created_model)
        return created_model

    def compare(self, challenger: str) -> None:
        ids = [str(self.champion), challenger]

        def check(d: Json) -> list[str]:
            comparison = d.get("comparison")
            problems = one_of(comparison, "models", [ids], where="comparison")
            metrics = comparison.get("metrics") if isinstance(comparison, dict) else None
            for name in ("accuracy", "precision", "recall", "latency"):
                entry = metrics.get(name) if isinstance(metrics, dict) else None
                problems += keys(entry, *ids, "difference", "winner", where=f"metrics.{name}")
            accuracy = (metrics or {}).get("accuracy") or {}
            problems += number(accuracy, ids[0], 0, 1, where="accuracy")
            problems += number(accuracy, ids[1], 0, 1, where="accuracy")
            if not problems:
                gap = abs(accuracy[ids[0]] - accuracy[ids[1]])
                if not close(gap, abs(accuracy["difference"]), 1e-3):
                    problems.append("accuracy.difference != the gap")
                best = max(ids, key=lambda i: accuracy[i])
                if accuracy[ids[0]] != accuracy[ids[1]] and accuracy["winner"] != best:
                    problems.append(f"accuracy.winner {accuracy['winner']}, higher is {best}")
            recommendations = d.get("recommendations")
            problems += non_empty_list(d, "recommendations")
            return problems + each(
                recommendations,
                lambda r, w: (
                    present(r, "type", "model", "reason", where=w)
                    + number(r, "confidence", 0, 1, where=w)
                ),
                where="recommendations",
            )

        self.w.call(
            "GET",
            f"{BASE}/analytics/models/compare",
            params={
                "modelIds": ",".join(ids),
                "metrics": "accuracy,precision,recall,latency",
                "period": "30d",
            },
            expect=200,
            check=ml_ok(check),
            note="champion vs the walk's challenger on one holdout",
        )

    def activate(self, challenger: str) -> None:
        """The document's status change, undone at once: the challenger active, then the
        champion again."""
        for model, reason in (
            (challenger, "Better performance than previous model"),
            (str(self.champion), "walk: restore the demo's champion"),
        ):
            self.w.call(
                "PUT",
                f"{BASE}/models/{model}/status",
                json={"status": "active", "reason": reason},
                expect=200,
                check=ml_ok(active_model(model)),
                note="activated",
            )
            self.w.call(
                "GET",
                f"{BASE}/config",
                expect=200,
                check=ml_ok(configured(model)),
                note="the configuration names it",
            )

    def deploy(self, challenger: str) -> None:
        body = {
            "validationResults": {"accuracy": 0.952, "precision": 0.94, "recall": 0.91},
            "aBTest": {"enabled": True, "trafficSplit": 0.1, "duration": "7d"},
            "rollbackPlan": {"previousModel": self.champion, "monitoringPeriod": "24h"},
        }
        self.w.call(
            "POST",
            f"{BASE}/models/{challenger}/deploy",
            json=body,
            expect=200,
            check=ml_ok(
                lambda d: (
                    present(d, "modelId", "deploymentId", "startedAt", "endsAt")
                    + one_of(d, "status", ["running"])
                    + one_of(d, "trafficSplit", [0.1])
                    + one_of(d, "championModelId", [self.champion])
                )
            ),
            note="10% champion/challenger test started",
        )
        self.w.call(
            "POST",
            f"{BASE}/models/{challenger}/deploy",
            json=body,
            expect=409,
            check=ml_error("DEPLOYMENT_RUNNING"),
            note="a second deploy while one runs",
        )
        self.during_test()
        self.w.call(
            "POST",
            f"{BASE}/models/{challenger}/deployment/rollback",
            json={"reason": "walk: restore the demo's champion"},
            expect=200,
            check=ml_ok(lambda d: one_of(d, "status", ["rolled_back"])),
            note="test ended, champion alone again",
        )
        # The champion answers the challenger's leads again, so their current predictions are
        # not the challenger's once it is deleted below.
        self.w.call(
            "POST",
            f"{BASE}/predict/conversion",
            json={"leadIds": self.leads, "timeframe": "30d"},
            expect=200,
            check=ml_ok(
                lambda d: [
                    f"lead {p['leadId']} without a prediction"
                    for p in d["predictions"]
                    if p.get("predictionId") is None
                ]
            ),
            note="after the rollback, every lead from the champion",
        )

    def during_test(self) -> None:
        """While the test runs, leads routed to the challenger are answered like the others:
        each with its prediction and factors, and the same prediction on the next request."""

        def answered(body: Json) -> list[int | None]:
            return [p.get("predictionId") for p in body["data"]["predictions"]]

        request = {"leadIds": self.leads, "timeframe": "30d", "includeFactors": True}
        first = self.w.call(
            "POST",
            f"{BASE}/predict/conversion",
            json=request,
            expect=200,
            check=ml_ok(
                lambda d: [
                    f"lead {p['leadId']} without its prediction or factors"
                    for p in d["predictions"]
                    if p.get("predictionId") is None or not p.get("keyFactors")
                ]
            ),
            note=f"{len(self.leads)} leads during the A/B test",
        )
        if isinstance(first, dict) and first.get("success"):
            self.w.call(
                "POST",
                f"{BASE}/predict/conversion",
                json=request,
                expect=200,
                check=lambda b: [] if answered(b) == answered(first) else ["re-scored, not cached"],
                note="the same predictions again (cached)",
            )

    def clean_up(self) -> None:
        for _, model_id in self.trained:
            self.w.call(
                "PUT",
                f"{BASE}/models/{model_id}/status",
                json={"status": "retired", "reason": "walk finished"},
                expect=200,
                check=ml_ok(lambda d: one_of(d, "status", ["retired"])),
                note="retired",
            )
            self.w.call(
                "DELETE",
                f"{BASE}/models/{model_id}",
                expect=200,
                check=ml_ok(lambda d: one_of(d, "deleted", [True])),
                note="deleted",
            )
        if self.trained:
            gone = self.trained[0][1]
            self.w.call(
                "GET",
                f"{BASE}/models/{gone}",
                expect=404,
                check=ml_error("MODEL_NOT_FOUND", modelId=gone),
                note="the document's Model Not Found envelope",
            )
        self.w.call(
            "DELETE",
            f"{BASE}/models/{self.champion}",
            expect=409,
            check=ml_error("MODEL_IN_USE"),
            note="only inactive models can be deleted",
        )
        self.w.call(
            "GET",
            f"{BASE}/config",
            expect=200,
            check=ml_ok(lambda d: one_of(d, "activeModel", [self.champion])),
            note="the champion is still the active model",
        )

    # --- configuration -------------------------------------------------------------------

    def config(self) -> None:
        def shape(d: Json) -> list[str]:
            problems = present(d, "activeModel", "fallbackModel", "scoring", "training")
            problems += present(d, "monitoring")
            scoring = d.get("scoring") or {}
            problems += number(scoring, "maxBatchSize", 1, where="scoring")
            problems += number(scoring, "timeout", 1, where="scoring")
            problems += present(scoring.get("caching"), "enabled", "ttl", "maxSize")
            problems += present(d.get("training"), "autoRetrain", "retrainThreshold")
            problems += present(d.get("training"), "maxTrainingTime", "validationSplit")
            monitoring = d.get("monitoring") or {}
            problems += present(monitoring, "driftDetection", "alertThresholds")
            return problems

        original = self.w.call(
            "GET", f"{BASE}/config", expect=200, check=ml_ok(shape), note="every documented part"
        )
        if not isinstance(original, dict) or not isinstance(original.get("data"), dict):
            return
        saved = {k: original["data"][k] for k in ("scoring", "training", "monitoring")}
        change = {
            "scoring": {"maxBatchSize": 1500, "timeout": 45000},
            "monitoring": {"alertThresholds": {"accuracyDrop": 0.03}},
        }

        def merged(d: Json) -> list[str]:
            problems = shape(d) + one_of(d["scoring"], "maxBatchSize", [1500], where="scoring")
            problems += one_of(d["scoring"], "timeout", [45000], where="scoring")
            thresholds = d["monitoring"]["alertThresholds"]
            problems += one_of(thresholds, "accuracyDrop", [0.03], where="alertThresholds")
            kept = saved["monitoring"]["alertThresholds"]["latencyIncrease"]
            return problems + one_of(thresholds, "latencyIncrease", [kept], where="alertThresholds")

        self.w.call(
            "PUT",
            f"{BASE}/config",
            json=change,
            expect=200,
            check=ml_ok(merged),
            note="merged, the rest kept",
        )
        self.w.call(
            "PUT",
            f"{BASE}/config",
            json={"scoring": {"maxBatchSize": -1}},
            expect=400,
            check=ml_error("VALIDATION_ERROR"),
            note="invalid value refused",
        )
        # Restored by sending GET's whole answer back, as a GET-modify-PUT client would.
        self.w.call(
            "PUT",
            f"{BASE}/config",
            json=original["data"],
            expect=200,
            check=ml_ok(lambda d: [] if {k: d[k] for k in saved} == saved else ["not restored"]),
            note="restored from GET's whole answer",
        )

    # --- scoring -------------------------------------------------------------------------

    def score(self) -> None:
        lead = self.leads[0]

        def check(explained: bool) -> Callable[[Json], list[str]]:
            def inner(d: Json) -> list[str]:
                problems = one_of(d, "leadId", [lead]) + number(d, "score", 0, 100)
                problems += number(d, "confidence", 0, 1) + text(d, "modelVersion")
                problems += text(d, "scoredAt") + number(d, "predictionTime", 0, 60_000)
                problems += present(d, "features")
                if explained:
                    explanation = d.get("explanation") or {}
                    importance = explanation.get("featureImportance")
                    problems += non_empty_list({"f": list(importance or {})}, "f")
                    problems += non_empty_list(explanation, "decisionFactors")
                    if importance and not all(0 <= v <= 1 for v in importance.values()):
                        problems.append("featureImportance outside [0, 1]")
                return problems

            return inner

        path = f"{BASE}/leads/{lead}/score"
        body = self.w.call(
            "GET", path, expect=200, check=ml_ok(check(False)), note="score with active model"
        )
        if isinstance(body, dict) and isinstance(body.get("data"), dict):
            self.lead_features = body["data"].get("features") or {}
            # The same model's probability through the other document: the same score.
            other = self.w.client.post(f"/api/lead-scoring/leads/{lead}/ml/predict-score", json={})
            if other.status_code == 200:
                theirs = other.json()["prediction"]["predictedScore"]
                if abs(theirs - body["data"]["score"]) > 1:
                    self.w.fail(
                        "GET",
                        path,
                        f"score {body['data']['score']} but lead-ml predictedScore {theirs}",
                    )
        self.w.call(
            "GET",
            path,
            params={"explain": "true", "model": self.champion},
            expect=200,
            check=ml_ok(check(True)),
            note="explained, model named",
        )
        self.w.call(
            "GET",
            f"{BASE}/leads/{UNKNOWN_LEAD}/score",
            expect=404,
            check=ml_error("LEAD_NOT_FOUND"),
            note="unknown lead",
        )

    def batch(self) -> None:
        ids = [*self.leads[:5], UNKNOWN_LEAD]
        queued = self.w.call(
            "POST",
            f"{BASE}/leads/batch-score",
            # The document names the model by its version ("v2.1.0").
            json={"leadIds": ids, "model": self.champion_version, "priority": "normal"},
            expect=202,
            check=ml_ok(
                lambda d: (
                    present(d, "jobId", "estimatedCompletion")
                    + one_of(d, "status", ["processing"])
                    + one_of(d, "totalLeads", [len(ids)])
                    + one_of(d, "completed", [0])
                )
            ),
            note=f"{len(ids)} leads queued",
        )
        if not isinstance(queued, dict) or not isinstance(queued.get("data"), dict):
            return
        path = f"{BASE}/batch/{queued['data']['jobId']}/results"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            state = self.w.client.get(path).json().get("data", {}).get("status")
            if state != "processing":
                break
            time.sleep(1)

        def check(d: Json) -> list[str]:
            problems = one_of(d, "status", ["completed"]) + text(d, "completedAt")
            results = d.get("results") or []
            scored = [r for r in results if r["leadId"] != UNKNOWN_LEAD]
            problems += each(
                scored,
                lambda r, w: (
                    number(r, "score", 0, 100, where=w)
                    + number(r, "confidence", 0, 1, where=w)
                    + one_of(r, "error", [None], where=w)
                ),
                where="results",
            )
            missing = [r for r in results if r["leadId"] == UNKNOWN_LEAD]
            if not missing or missing[0].get("error") is None:
                problems.append("the unknown lead has no error")
            s = d.get("summary") or {}
            problems += one_of(s, "total", [len(ids)], where="summary")
            problems += one_of(s, "successful", [len(ids) - 1], where="summary")
            problems += one_of(s, "failed", [1], where="summary")
            problems += number(s, "averageScore", 0, 100, where="summary")
            problems += number(s, "averageConfidence", 0, 1, where="summary")
            if not problems and scored:
                mean = sum(r["score"] for r in scored) / len(scored)
                if not close(mean, s["averageScore"], 0.1):
                    problems.append(f"averageScore {s['averageScore']} != mean {mean:.2f}")
            return problems

        self.w.call("GET", path, expect=200, check=ml_ok(check), note="results and summary add up")

    def conversion(self) -> None:
        ids = self.leads[:3]

        def check(d: Json) -> list[str]:
            predictions = d.get("predictions")
            problems = one_of({"n": len(predictions or [])}, "n", [len(ids)])
            problems += each(
                predictions,
                lambda p, w: (
                    number(p, "leadId", 1, where=w)
                    + number(p, "conversionProbability", 0, 1, where=w)
                    + number(p, "confidence", 0, 1, where=w)
                    + number(p, "estimatedValue", 0, where=w)
                    + text(p, "timeToConversion", where=w)
                    + non_empty_list(p, "keyFactors", where=w)
                ),
                where="predictions",
            )
            info = d.get("modelInfo")
            problems += text(info, "version", where="modelInfo")
            problems += number(info, "accuracy", 0, 1, where="modelInfo")
            return problems + text(info, "lastUpdated", where="modelInfo")

        self.w.call(
            "POST",
            f"{BASE}/predict/conversion",
            json={"leadIds": ids, "timeframe": "30d", "includeFactors": True},
            expect=200,
            check=ml_ok(check),
            note="probability within 30 days, value, factors",
        )

    def market(self) -> None:
        def check(d: Json) -> list[str]:
            trends = d.get("marketTrends")
            problems = number(trends, "priceGrowth", -1, 10, where="marketTrends")
            problems += number(trends, "inventoryChange", -1, 100, where="marketTrends")
            problems += number(trends, "daysOnMarket", 0, 3650, where="marketTrends")
            problems += one_of(trends, "buyerDemand", ("low", "moderate", "high"))
            problems += non_empty_list(d, "recommendations") + non_empty_list(d, "insights")
            problems += each(
                d.get("recommendations"),
                lambda r, w: (
                    present(r, "type", "action", "reason", where=w)
                    + number(r, "confidence", 0, 1, where=w)
                ),
                where="recommendations",
            )
            return problems + each(
                d.get("insights"),
                lambda i, w: present(i, "category", "insight", "impact", "data", where=w),
                where="insights",
            )

        self.w.call(
            "GET",
            f"{BASE}/insights/market",
            params={"timeframe": "90d"},
            expect=200,
            check=ml_ok(check),
            note="trends, recommendations, insights from closed deals",
        )
        place = self.lead_features.get("location")
        kind = self.lead_features.get("propertyType")
        if place and kind:
            self.w.call(
                "GET",
                f"{BASE}/insights/market",
                params={"location": place, "propertyType": kind, "timeframe": "90d"},
                expect=200,
                check=ml_ok(
                    lambda d: (
                        one_of(d.get("filters"), "location", [place], where="filters")
                        + number(d, "sampleSize", 1)
                    )
                ),
                note=f"filtered to {kind} in {place}",
            )

    # --- monitoring, features, analytics ------------------------------------------------

    def monitoring(self) -> None:
        model = self.champion

        def performance(d: Json) -> list[str]:
            problems = one_of(d, "modelId", [model]) + one_of(d, "period", ["24h"])
            metrics = d.get("metrics")
            problems += number(metrics, "predictionCount", 0, where="metrics")
            for name in ("errorRate", "driftScore"):
                problems += number(metrics, name, 0, 1, where="metrics")
            # Accuracy needs outcomes: null is right while none of the period is validated.
            if (metrics or {}).get("validatedPredictions") != 0:
                problems += number(metrics, "accuracy", 0, 1, where="metrics")
            problems += number(metrics, "averageLatency", 0, where="metrics")
            perf = d.get("performance")
            for name in ("p50Latency", "p95Latency", "p99Latency", "throughput"):
                problems += number(perf, name, 0, where="performance")
            if not problems and not perf["p50Latency"] <= perf["p95Latency"] <= perf["p99Latency"]:
                problems.append("p50 <= p95 <= p99 fails")
            return problems + each(
                d.get("alerts"),
                lambda a, w: present(a, "type", "severity", "message", "timestamp", where=w),
                where="alerts",
            )

        self.w.call(
            "GET",
            f"{BASE}/models/{model}/performance",
            params={"period": "24h"},
            expect=200,
            check=ml_ok(performance),
            note="counts, latency percentiles, alerts",
        )
        self.w.call(
            "GET",
            f"{BASE}/models/{model}/performance",
            params={"period": "7d", "metrics": "predictionCount,errorRate"},
            expect=200,
            check=ml_ok(
                lambda d: (
                    one_of(d, "period", ["7d"])
                    + one_of({"m": sorted(d["metrics"])}, "m", [["errorRate", "predictionCount"]])
                )
            ),
            note="period and metrics selection",
        )

        def drift(d: Json) -> list[str]:
            analysis = d.get("driftAnalysis")
            problems = one_of(d, "modelId", [model])
            problems += number(analysis, "overallDrift", 0, where="driftAnalysis")
            problems += present(analysis, "featureDrift", "conceptDrift", where="driftAnalysis")
            concept = (analysis or {}).get("conceptDrift")
            if concept is not None:
                problems += number(concept, "score", 0, where="conceptDrift")
            return problems + each(
                d.get("recommendations"),
                lambda r, w: present(r, "type", "priority", "reason", "suggestedAction", where=w),
                where="recommendations",
            )

        self.w.call(
            "GET",
            f"{BASE}/models/{model}/drift",
            expect=200,
            check=ml_ok(drift),
            note="feature, score and concept drift",
        )

    def features(self) -> None:
        def feature(f: Json, where: str) -> list[str]:
            problems = present(f, "name", "type", "description", where=where)
            problems += number(f, "importance", 0, 1, where=where)
            problems += number(f, "missingRate", 0, 1, where=where)
            # A feature no entity has (missingRate 1) has no range or distribution.
            if f.get("type") == "numeric" and f.get("missingRate") != 1:
                problems += present(f, "range", "distribution", where=where)
                problems += present(f.get("distribution"), "mean", "std", "skewness", where=where)
            if f.get("type") == "categorical":
                problems += non_empty_list(f, "categories", where=where)
            return problems

        self.w.call(
            "GET",
            f"{BASE}/features",
            expect=200,
            check=ml_ok(lambda d: each(d, feature, where="data") + ([] if d else ["no features"])),
            note="types, ranges, distributions, categories",
        )
        ids = self.leads[:2]

        def importance(d: Json) -> list[str]:
            problems = one_of(d, "modelId", [self.champion])
            problems += non_empty_list({"g": list(d.get("globalImportance") or {})}, "g")
            for part in ("localImportance", "shapValues"):
                found = d.get(part) or {}
                problems += [f"{part} lacks lead_{i}" for i in ids if not found.get(f"lead_{i}")]
            return problems

        self.w.call(
            "GET",
            f"{BASE}/models/{self.champion}/feature-importance",
            params={"leadIds": ",".join(map(str, ids))},
            expect=200,
            check=ml_ok(importance),
            note="global, local and SHAP per lead",
        )

    def analytics(self) -> None:
        def check(d: Json) -> list[str]:
            summary = d.get("summary")
            problems = number(summary, "totalPredictions", 1, where="summary")
            problems += number(summary, "averageAccuracy", 0, 1, where="summary")
            problems += number(summary, "averageLatency", 0, where="summary")
            problems += number(summary, "activeModels", 1, where="summary")
            problems += number(summary, "alertsCount", 0, where="summary")
            problems += each(
                d.get("modelPerformance"),
                lambda m, w: (
                    present(m, "modelId", "name", "status", where=w)
                    + number(m, "predictions", 0, where=w)
                    + keys(m, "accuracy", "latency", "driftScore", where=w)
                ),
                where="modelPerformance",
            )
            health = d.get("systemHealth")
            for name in ("cpuUsage", "memoryUsage", "errorRate"):
                problems += number(health, name, 0, 1, where="systemHealth")
            problems += number(health, "queueDepth", 0, where="systemHealth")
            trends = d.get("trends") or {}
            problems += non_empty_list(trends, "accuracyTrend", where="trends")
            problems += non_empty_list(trends, "latencyTrend", where="trends")
            return problems

        self.w.call(
            "GET",
            f"{BASE}/analytics/dashboard",
            params={"period": "7d"},
            expect=200,
            check=ml_ok(check),
            note="summary, per-model rows, system health, trends",
        )
        self.w.call(
            "GET",
            f"{BASE}/analytics/dashboard",
            params={"period": "24h", "models": self.champion},
            expect=200,
            check=ml_ok(
                lambda d: (
                    [
                        f"row for model {m['modelId']}"
                        for m in d["modelPerformance"]
                        if m["modelId"] != self.champion
                    ]
                    + non_empty_list(d, "modelPerformance")
                )
            ),
            note="only the models asked for",
        )

    def errors(self) -> None:
        self.w.call(
            "GET",
            f"{BASE}/models/999999",
            expect=404,
            check=ml_error("MODEL_NOT_FOUND", modelId="999999"),
            note="Model Not Found envelope",
        )
        self.w.call(
            "GET",
            f"{BASE}/training/no-such-job/status",
            expect=404,
            check=ml_error("JOB_NOT_FOUND", jobId="no-such-job"),
            note="unknown training job",
        )
        self.w.call(
            "GET",
            f"{BASE}/batch/no-such-job/results",
            expect=404,
            check=ml_error("JOB_NOT_FOUND", jobId="no-such-job"),
            note="unknown batch job",
        )
        self.w.call(
            "POST",
            f"{BASE}/leads/batch-score",
            json={"leadIds": []},
            expect=400,
            check=ml_error("VALIDATION_ERROR"),
            note="no leads",
        )
        self.w.call(
            "GET",
            f"{BASE}/models",
            headers={"Authorization": ""},
            expect=401,
            check=lambda b: (
                [] if isinstance(b, dict) and b.get("success") is False else ["envelope"]
            ),
            note="no credentials",
        )


def lead_ids_of(body: Any) -> list[int]:
    return [int(r["leadId"]) for r in (body or {}).get("rankings") or []]
