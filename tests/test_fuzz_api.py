"""Schemathesis over /openapi.json against a real server with a test tenant: every operation,
a bounded number of generated requests each. No answer may be a 5xx, take longer than 5 s,
or be a dropped connection."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from propensity.db import Database
from propensity.migrate import upgrade
from propensity.models import Role
from propensity.portfolio.tasks import snapshot_tenant
from propensity.settings import Settings
from propensity.tenancy.service import create_api_key, get_tenant
from propensity.training.service import train_prediction_type
from tests.factories import make_simulated_tenant
from tests.servers import serve

EXAMPLES = 8
MODELS = (
    ("CHURN", "subscriber"),
    ("CHURN", "account"),
    ("HEALTH_TREND", "account"),
    ("CONVERSION", None),
    ("TIME_TO_CLOSE", None),
)
# The key the fuzzer authenticates with must survive the fuzzing.
SKIPPED = {("DELETE", "/api/v1/api-keys/{key_id}")}


@dataclass(frozen=True)
class Served:
    url: str
    key: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("fuzz-home")
    own = Settings(_env_file=None, home=home, environment="test")  # type: ignore[call-arg]
    upgrade(own.resolved_database_url)
    database = Database(own.resolved_database_url)
    # A tenant with data and a trained model of every type, so that requests reach the code
    # behind the documented "no model yet" answers.
    user = make_simulated_tenant(
        database, own, slug="fuzz", accounts=150, subscribers=600, leads=400
    )
    for prediction_type, kind in MODELS:
        train_prediction_type(
            database, tenant_id=user.tenant_id, prediction_type=prediction_type, kind=kind
        )
    # Today's churn-KPI snapshot (the nightly task's work), so its endpoints have one.
    snapshot_tenant(database, tenant_id=user.tenant_id)
    with database.system_session() as session:
        tenant = get_tenant(session, slug_or_id="fuzz")
        _key, secret = create_api_key(session, tenant=tenant, name="fuzzer", role=Role.ADMIN)
    database.dispose()
    env = {
        # The fuzzer sends hundreds of requests a minute from one address.
        "PROPENSITY_RETAINSTREAM_RATE_LIMIT": "100000/minute",
        # A training the fuzzer asks for answers 202 with its job after 3 s (the wait is a
        # setting; its default, 2 minutes, is longer than the 5 s every answer must take).
        "PROPENSITY_RETAINSTREAM_TRAIN_WAIT_SECONDS": "3",
    }
    with serve(home, env=env) as url:
        yield Served(url=url, key=secret)


@pytest.mark.slow
def test_no_operation_fails_or_stalls(served: Served) -> None:
    schema = schemathesis.openapi.from_url(served.url + "/openapi.json")
    headers = {"X-API-Key": served.key, "X-Tenant-ID": "fuzz"}
    problems: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        operations += 1

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        @given(case=operation.as_strategy())
        def call(case: schemathesis.Case) -> None:
            started = time.monotonic()
            try:
                response = case.call(base_url=served.url, headers=headers, timeout=10)
            except Exception as exc:  # a dropped connection or a stall past the timeout
                problems.append(f"{case.method} {case.formatted_path}: {type(exc).__name__}")
                return
            elapsed = time.monotonic() - started
            if response.status_code >= 500:
                problems.append(
                    f"{case.method} {case.formatted_path}: {response.status_code} "
                    f"{response.text[:200]}"
                )
            elif elapsed >= 5.0:
                problems.append(f"{case.method} {case.formatted_path}: {elapsed:.1f} s")

        call()
    assert operations >= 80
    assert not problems, "\n".join(sorted(set(problems))[:40])
