"""Prometheus metrics, served at `/metrics` by every process that answers HTTP.

Counted where they happen, in this process: request latency per surface and route template,
predictions by type and source (model or rules) and whether they were fresh or cached, job
durations and outcomes, webhook delivery outcomes. Read from the database when scraped: the
queue's depth and the latest drift score of each active model.

With several server workers (`propensity serve --workers N`) each process writes its samples
to files in PROMETHEUS_MULTIPROC_DIR (set by `serve` before any worker starts) and a scrape of
any worker adds them all up (prometheus_client's multi-process mode). Labels never carry a
tenant's name, ids of its data, or anything from a request beyond the route template.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# The process's own metrics (not the library's global registry, which other code may use).
REGISTRY = CollectorRegistry(auto_describe=True)

REQUEST_SECONDS = Histogram(
    "propensity_request_duration_seconds",
    "Time to answer a request, by surface, route template, method and status class.",
    ["surface", "route", "method", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
PREDICTIONS = Counter(
    "propensity_predictions_total",
    "Predictions answered, by type, source (model or rules) and whether fresh or cached.",
    ["type", "source", "served"],
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "propensity_job_duration_seconds",
    "Time a job (or one of its chunks) ran, by job type and outcome.",
    ["type", "outcome"],
    buckets=(0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0),
    registry=REGISTRY,
)
JOB_FAILURES = Counter(
    "propensity_job_failures_total",
    "Jobs (or chunks) that ended in an error, by job type.",
    ["type"],
    registry=REGISTRY,
)
PERIODIC_FAILURES = Counter(
    "propensity_periodic_failures_total",
    "Tenants (or models) a scheduled task could not process, by task; the others still ran.",
    ["task"],
    registry=REGISTRY,
)
WEBHOOK_DELIVERIES = Counter(
    "propensity_webhook_attempts_total",
    "Webhook delivery attempts, by outcome (delivered, pending retry, failed, cancelled, skipped).",
    ["outcome"],
    registry=REGISTRY,
)


def status_class(code: int) -> str:
    return f"{code // 100}xx"


# Reads (jobs by status, the latest drift by (model id, type, population)) from the database.
Reader = Callable[[], tuple[dict[str, int], dict[tuple[int, str, str], float]]]


class DatabaseCollector(Collector):
    """Gauges read from the database when scraped (any process sees the same numbers)."""

    def __init__(self, read: Reader) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "propensity_job_queue_depth",
            "Jobs waiting to run or running, by status.",
            labels=["status"],
        )
        drift = GaugeMetricFamily(
            "propensity_model_drift_score",
            "The latest stored drift score of each active model (importance-weighted PSI).",
            labels=["model_id", "type", "population"],
        )
        try:
            counts, drifts = self._read()
        except Exception:  # a scrape reports what it can; /health/ready says what is wrong
            return
        for status, count in sorted(counts.items()):
            depth.add_metric([status], count)
        for (model_id, prediction_type, population), score in sorted(drifts.items()):
            drift.add_metric([str(model_id), prediction_type, population], score)
        yield depth
        yield drift


def exposition(read: Reader) -> bytes:
    """The text a scrape returns: this process's metrics (all processes' in multi-process
    mode) and the database gauges."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        counted = generate_latest(registry)
    else:
        counted = generate_latest(REGISTRY)
    gauges = CollectorRegistry()
    gauges.register(DatabaseCollector(read))
    return counted + generate_latest(gauges)
