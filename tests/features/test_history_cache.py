"""A kind's whole history is read once and kept while the tenant's history stamp holds; every
import renews the stamp, so what a build reads after an import is always the imported data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from propensity.crm.service import ImportRejected, import_frame
from propensity.db import Database
from propensity.features.builder import load_entities
from propensity.features.history import Events, Health, load_events, load_health
from propensity.features.history_cache import HistoryCache, history_cache, history_stamp
from propensity.models import Customer, Tenant
from propensity.vocabulary import PredictionType
from tests.features.helpers import T, account_scenario, days, new_tenant
from tests.statements import captured_statements


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    history_cache.clear()
    yield
    history_cache.clear()


def _stamp(database: Database, tenant: int) -> int:
    with database.tenant_session(tenant) as session:
        return history_stamp(session)


def _accounts(database: Database, tenant: int) -> tuple[Events, Health, int]:
    """The accounts' events and health, and how many statements read the history tables."""
    with captured_statements(database) as seen, database.tenant_session(tenant) as session:
        entities = load_entities(session, prediction_type=PredictionType.CHURN, kind="account")
        events = load_events(session, entities)
        health = load_health(session, entities)
    scans = [s for s, _ in seen if "FROM events" in s or "FROM health_snapshots" in s]
    return events, health, len(scans)


def _same(a: Events | Health, b: Events | Health) -> None:
    if isinstance(a, Events) and isinstance(b, Events):
        order_a = np.lexsort((a.type_code, a.time, a.code))
        order_b = np.lexsort((b.type_code, b.time, b.code))
        for name in ("code", "time", "type_code", "value", "sequence_step", "ticket"):
            assert np.array_equal(
                getattr(a, name)[order_a], getattr(b, name)[order_b], equal_nan=name != "ticket"
            ), name
        assert a.type_names == b.type_names
        assert a.present_types == b.present_types
    elif isinstance(a, Health) and isinstance(b, Health):
        order_a, order_b = np.lexsort((a.time, a.code)), np.lexsort((b.time, b.code))
        assert np.array_equal(a.code[order_a], b.code[order_b])
        assert np.array_equal(a.time[order_a], b.time[order_b])
        for name in a.scores:
            assert np.array_equal(
                a.scores[name][order_a], b.scores[name][order_b], equal_nan=True
            ), name
    else:
        raise AssertionError("different kinds")


def _load(database: Database, tenant: int, frames: dict[str, list[dict[str, object]]]) -> None:
    with database.tenant_session(tenant) as session:
        for kind, rows in frames.items():
            if rows:
                import_frame(session, kind=kind, frame=pd.DataFrame(rows))


@pytest.fixture
def accounts(database: Database) -> int:
    tenant = new_tenant(database, "kept")
    crm = account_scenario()
    _load(
        database, tenant, {"customers": crm.customers, "events": crm.events, "health": crm.health}
    )
    return tenant


def test_a_tenant_starts_with_a_stamp_and_every_import_renews_it(
    database: Database, accounts: int
) -> None:
    first = _stamp(database, accounts)
    assert first != 0
    customer = _first_account(database, accounts)
    _load(database, accounts, {"events": [_login(customer, "late-1")]})
    second = _stamp(database, accounts)
    assert second not in (0, first)
    # A rejected import writes nothing, the stamp included.
    with pytest.raises(ImportRejected), database.tenant_session(accounts) as session:
        import_frame(session, kind="events", frame=pd.DataFrame([{"event_id": "x"}]))
    assert _stamp(database, accounts) == second


def _login(customer: str, event_id: str, *, when: object = None) -> dict[str, object]:
    return {
        "event_id": event_id,
        "customer_id": customer,
        "type": "login",
        "occurred_at": when or T - days(2),
    }


def test_a_whole_kind_is_read_once_while_its_history_is_unchanged(
    database: Database, accounts: int
) -> None:
    events, health, scans = _accounts(database, accounts)
    assert scans == 2
    again_events, again_health, again = _accounts(database, accounts)
    assert again == 0
    _same(events, again_events)
    _same(health, again_health)


def test_the_read_after_an_import_holds_the_imported_rows(
    database: Database, accounts: int
) -> None:
    before, _, _ = _accounts(database, accounts)
    customer = _first_account(database, accounts)
    _load(database, accounts, {"events": [_login(customer, "late-1", when=T - days(400))]})
    after, _, scans = _accounts(database, accounts)
    assert scans == 2
    assert len(after) == len(before) + 1
    history_cache.clear()
    fresh, _, _ = _accounts(database, accounts)
    _same(after, fresh)


def _first_account(database: Database, tenant: int) -> str:
    with database.tenant_session(tenant) as session:
        first = session.scalars(sa.select(Customer.external_id).order_by(Customer.id).limit(1))
        return str(first.one())


def test_what_a_rolled_back_import_read_is_never_served(database: Database, accounts: int) -> None:
    before, _, _ = _accounts(database, accounts)
    customer = _first_account(database, accounts)

    @dataclass
    class Abandoned(Exception):
        seen: int

    with pytest.raises(Abandoned) as abandoned, database.tenant_session(accounts) as session:
        import_frame(session, kind="events", frame=pd.DataFrame([_login(customer, "gone-1")]))
        entities = load_entities(session, prediction_type=PredictionType.CHURN, kind="account")
        raise Abandoned(len(load_events(session, entities)))
    assert abandoned.value.seen == len(before) + 1
    after, _, _ = _accounts(database, accounts)
    _same(before, after)


def test_tenants_never_share_what_is_kept(database: Database, accounts: int) -> None:
    other = new_tenant(database, "other")
    crm = account_scenario()
    crm.events = crm.events[: len(crm.events) // 2]
    _load(database, other, {"customers": crm.customers, "events": crm.events})
    mine, _, _ = _accounts(database, accounts)
    theirs, _, _ = _accounts(database, other)
    assert len(theirs) == len(crm.events) != len(mine)


def test_a_stamp_of_zero_is_never_trusted(database: Database, accounts: int) -> None:
    with database.system_session() as session:
        session.execute(sa.update(Tenant).where(Tenant.id == accounts).values(history_stamp=0))
    _accounts(database, accounts)
    _, _, scans = _accounts(database, accounts)
    assert scans == 2


@dataclass(frozen=True)
class _Blob:
    nbytes: int


def test_the_cache_keeps_at_most_its_budget(database: Database, accounts: int) -> None:
    cache = HistoryCache(max_bytes=100)
    with database.tenant_session(accounts) as session:
        first = cache.read(session, "a", lambda: _Blob(60))
        assert cache.read(session, "a", lambda: _Blob(1)) is first
        cache.read(session, "b", lambda: _Blob(60))  # over the budget: "a" goes
        assert len(cache) == 1
        assert cache.read(session, "a", lambda: _Blob(1)) == _Blob(1)
        cache.read(session, "huge", lambda: _Blob(101))  # never kept
        assert cache.read(session, "huge", lambda: _Blob(7)) == _Blob(7)


def test_a_build_may_change_what_it_was_given_without_changing_what_is_kept(
    database: Database, accounts: int
) -> None:
    kept, _, _ = _accounts(database, accounts)
    given, _, scans = _accounts(database, accounts)
    assert scans == 0
    given.time[:] = 0
    given.value[:] = -1.0
    again, _, _ = _accounts(database, accounts)
    _same(kept, again)
