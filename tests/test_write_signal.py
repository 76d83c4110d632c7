"""The write signal: raised by every commit that wrote, for its tenant, seen by every process
using the database; not raised by reads."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from propensity.db import Database
from propensity.models import Customer, Tenant
from propensity.settings import Settings
from propensity.tenancy.service import create_tenant
from propensity.write_signal import SLOTS, FileSignal, RedisSignal, Signals, signal_for
from tests.conftest import REDIS_URL


def test_a_raise_is_seen_through_another_mapping_and_only_for_its_tenant(tmp_path: Path) -> None:
    one, other = FileSignal(tmp_path / "w"), FileSignal(tmp_path / "w")
    before_1, before_2 = other.read(1), other.read(2)
    one.raise_for(1)
    assert other.read(1) != before_1
    assert other.read(2) == before_2
    # Tenants sharing a slot share the signal: a spurious change, never a missed one.
    assert other.read(1 + SLOTS) == other.read(1)
    everyone = other.read(2)
    one.raise_for(None)
    assert other.read(2) != everyone


def test_a_raise_in_another_process_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "w"
    signal = FileSignal(path)
    before = signal.read(7)
    code = (
        "from pathlib import Path; from propensity.write_signal import FileSignal; "
        f"FileSignal(Path({str(path)!r})).raise_for(7)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert signal.read(7) != before


def _tenant(database: Database, slug: str) -> int:
    with database.system_session() as session:
        return create_tenant(session, slug=slug).id


def _add_account(database: Database, tenant_id: int, name: str) -> None:
    with database.tenant_session(tenant_id) as session:
        session.add(Customer(external_id=name, name=name, kind="account"))


def test_commits_that_wrote_raise_their_tenants_signal_and_reads_do_not(
    database: Database,
) -> None:
    first, second = _tenant(database, "ws-one"), _tenant(database, "ws-two")
    assert first % SLOTS != second % SLOTS
    signal = database.writes
    before_first, before_second = signal.read(first), signal.read(second)

    with database.tenant_session(first) as session:
        session.scalars(sa.select(Customer)).all()
    with database.request_session(first) as session:
        session.scalars(sa.select(Customer)).all()
    assert signal.read(first) == before_first

    _add_account(database, first, "Acme")
    after_first = signal.read(first)
    assert after_first != before_first
    assert signal.read(second) == before_second

    # A Core write on the session's own connection (the bulk paths) counts the same.
    with database.tenant_session(second) as session:
        session.connection().execute(
            sa.insert(Customer).values(
                tenant_id=second, external_id="bulk", name="Bulk", kind="account"
            )
        )
    assert signal.read(second) != before_second
    assert signal.read(first) == after_first
    # A write that changed no row changed nothing to answer from.
    after_second = signal.read(second)
    with database.tenant_session(second) as session:
        session.connection().execute(
            sa.update(Customer)
            .where(Customer.tenant_id == second, Customer.id < 0)
            .values(name="x")
        )
    if database.engine.dialect.name == "sqlite":
        assert signal.read(second) == after_second


def test_a_raw_connections_write_raises_every_tenants_signal(database: Database) -> None:
    tenant_id = _tenant(database, "ws-raw")
    before = database.writes.read(tenant_id)
    with database.engine.begin() as conn:
        conn.execute(sa.update(Tenant).where(Tenant.id == tenant_id).values(name="Raw"))
    assert database.writes.read(tenant_id) != before


def test_processes_without_redis_still_signal_those_with_it(settings: Settings) -> None:
    """A process configured with Redis reads the machine's file too, so a write by one
    without it (a CLI run with another environment) is not missed."""
    if not REDIS_URL:
        pytest.skip("needs the test Redis (PROPENSITY_TEST_REDIS_URL)")
    url = settings.resolved_database_url
    with_redis = signal_for(url, redis_url=REDIS_URL)
    assert isinstance(with_redis, Signals)
    before = with_redis.read(3)
    signal_for(url, redis_url=None).raise_for(3)
    assert with_redis.read(3) != before
    middle = with_redis.read(3)
    RedisSignal(REDIS_URL, database_url=url).raise_for(3)
    assert with_redis.read(3) != middle


def test_an_unreachable_redis_reads_as_no_signal() -> None:
    signal = RedisSignal("redis://127.0.0.1:9/0", database_url="sqlite:///x.db")
    assert signal.read(1) is None
    signal.raise_for(1)  # logged, not raised: the commit it follows has happened


@contextmanager
def silent_server() -> Iterator[str]:
    """A Redis URL whose server accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


def test_a_redis_that_never_answers_costs_one_timeout_not_one_per_request() -> None:
    with silent_server() as url:
        signal = RedisSignal(url, database_url="sqlite:///x.db")
        started = time.perf_counter()
        assert signal.read(1) is None
        first = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(20):
            assert signal.read(1) is None
            signal.raise_for(1)
        after = time.perf_counter() - started
    assert first >= 0.4
    assert after < 0.2


def test_raises_missed_while_redis_was_down_end_every_answer_when_it_is_back(
    settings: Settings,
) -> None:
    if not REDIS_URL:
        pytest.skip("needs the test Redis (PROPENSITY_TEST_REDIS_URL)")
    url = settings.resolved_database_url
    reader = RedisSignal(REDIS_URL, database_url=url)
    writer = RedisSignal(REDIS_URL, database_url=url)
    before = reader.read(9)
    reachable = writer._client
    with silent_server() as silent:
        writer._client = redis.Redis.from_url(silent, socket_timeout=0.2)
        writer.raise_for(3)  # tenant 3 wrote while this process could not reach Redis
    writer._client = reachable
    assert reader.read(9) == before
    writer._down_until = 0.0  # its retry time has come
    writer.raise_for(4)
    assert reader.read(9) != before


def test_a_migration_ends_every_kept_answer(database: Database, settings: Settings) -> None:
    """Alembic writes through its own engine, so upgrading raises the database's signal."""
    from propensity.migrate import upgrade

    before = database.writes.read(1)
    upgrade(settings.resolved_database_url)
    assert database.writes.read(1) != before
