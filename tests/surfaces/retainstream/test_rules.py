"""The documented rules behind RetainStream's numbers: risk cut-offs, AUC status and
comparison, feature titles and the humanised times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from propensity.models import ModelVersion
from propensity.portfolio.risk import risk_level
from propensity.surfaces.retainstream.modelinfo import (
    Comparison,
    auc_status,
    compare,
    feature_title,
)
from propensity.surfaces.retainstream.present import ago, signed


def _version(auc: float) -> ModelVersion:
    return ModelVersion(version_number=1, metrics={"roc_auc": auc})


def test_risk_levels_are_relative_to_the_threshold() -> None:
    assert risk_level(0.30, 0.30) == "High"
    assert risk_level(0.15, 0.30) == "Medium"
    assert risk_level(0.1499, 0.30) == "Low"


def test_auc_comparison_and_status() -> None:
    better = compare(_version(0.87), _version(0.72))
    assert better == Comparison(True, 0.72, 0.87, "+0.15 (+20.8%)")
    assert auc_status(better) == "Stable"
    slight = compare(_version(0.85), _version(0.86))
    assert auc_status(slight) == "Stable"
    worse = compare(_version(0.80), _version(0.83))
    assert worse.improved is False and worse.improvement == "-0.03 (-3.6%)"
    assert auc_status(worse) == "Degraded"
    first = compare(_version(0.8), None)
    assert first == Comparison(False, None, 0.8, None)
    assert auc_status(first) == "Stable"


def test_feature_titles_are_human() -> None:
    assert feature_title("watch_hours_30d") == "Watch Time (30d)"
    assert feature_title("days_since_login") == "Last Login Days"
    assert feature_title("monthly_charges") == "Monthly Charges"


def test_times_and_signs_read_as_the_document_shows() -> None:
    now = datetime(2026, 1, 31, 10, tzinfo=UTC)
    assert ago(now - timedelta(days=2, hours=3), now) == "2 days ago"
    assert ago(now - timedelta(hours=1), now) == "1 hour ago"
    assert ago(now - timedelta(seconds=5), now) == "just now"
    assert ago(None, now) is None
    assert signed(0.4, digits=1, suffix="%") == "+0.4%"
    assert signed(-120, digits=0) == "-120"
    assert signed(0, digits=0) == "+0"
