"""Train/serve consistency of the online feature state: for a sample of entities of every
population, the features built from the stored states at t equal the offline point-in-time
features at t, after imports in any order, re-imports, late events and events moved between
entities (on SQLite and, in the PostgreSQL run, on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import propensity.features.refresh as refresh
import propensity.features.scoring as scoring
import propensity.features.state_store as state_store
from propensity.crm.service import import_frame
from propensity.db import TENANT_PARAM, Database
from propensity.features import build_scoring_frame
from propensity.features.loading import MAX_IN_LIST
from propensity.features.refresh import refresh_states
from propensity.features.state import LOOKBACK_DAYS, EntityState
from propensity.features.state_codec import decode, decode_many, encode
from propensity.features.state_store import _LISTED, load_states
from propensity.models import Customer, FeatureState, Lead
from propensity.simulator import SimulatedData, SimulationConfig, simulate
from tests.features.helpers import SIM_END, load_simulation

TYPES = (
    ("CHURN", "subscriber"),
    ("CHURN", "account"),
    ("HEALTH_TREND", "account"),
    ("CONVERSION", None),
    ("TIME_TO_CLOSE", None),
)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every load_context call of build_scoring_frame, to see which path a build took."""
    calls: list[dict[str, Any]] = []

    def spying(real: Any) -> Any:
        def spy(session: Any, **kwargs: Any) -> Any:
            context = real(session, **kwargs)
            if context is not None:  # a stored context that cannot answer is not a load
                calls.append({"as_of_us": kwargs.get("as_of_us"), "online": type(context.streams)})
            return context

        return spy

    for name in ("load_context", "load_stored_context"):
        monkeypatch.setattr(scoring, name, spying(getattr(scoring, name)))
    return calls


def _sample(ids: np.ndarray, n: int = 8) -> list[int]:
    step = max(1, len(ids) // n)
    return [int(i) for i in ids[::step][:n]]


def assert_online_equals_offline(
    database: Database, tenant: int, *, at: datetime, loads: list[dict[str, Any]]
) -> int:
    """Compares every population at `at`; returns how many entities were compared."""
    compared = 0
    with database.tenant_session(tenant) as session:
        for prediction_type, kind in TYPES:
            full = build_scoring_frame(
                session, prediction_type=prediction_type, kind=kind, as_of=at
            )
            ids = _sample(full.entity_ids)
            subject = "lead" if kind is None else "customer"
            states = load_states(
                session, subject=subject, ids=ids, as_of_us=int(at.timestamp() * 1e6)
            )
            assert states is not None, f"{prediction_type}/{kind}: no usable states"
            # Each entity alone (as one request scores it), and all of them in one build.
            for chunk in [*([i] for i in ids), ids]:
                loads.clear()
                online = build_scoring_frame(
                    session,
                    prediction_type=prediction_type,
                    kind=kind,
                    entity_ids=chunk,
                    as_of=at,
                    mode="point_in_time",
                    features=list(full.frame.columns),
                )
                # One load, from the states (no fall-back to the history).
                assert len(loads) == 1 and loads[0]["as_of_us"] is not None
                assert loads[0]["online"].__name__ == "OnlineStreams"
                positions = [list(full.entity_ids).index(i) for i in chunk]
                expected = full.frame.iloc[positions].reset_index(drop=True)
                pd.testing.assert_frame_equal(
                    online.frame, expected, check_exact=False, rtol=1e-9, atol=1e-9
                )
            compared += len(ids)
            # The whole population at once, as a portfolio job scores it: from the states too.
            loads.clear()
            stored = build_scoring_frame(
                session,
                prediction_type=prediction_type,
                kind=kind,
                as_of=at,
                mode="point_in_time",
                features=list(full.frame.columns),
            )
            assert [call["online"].__name__ for call in loads] == ["OnlineStreams"]
            np.testing.assert_array_equal(stored.entity_ids, full.entity_ids)
            pd.testing.assert_frame_equal(
                stored.frame, full.frame, check_exact=False, rtol=1e-9, atol=1e-9
            )
            compared += len(full.entity_ids)
    return compared


@pytest.mark.parametrize("scan", [False, True], ids=["listed", "scanned"])
def test_states_built_at_a_time_answer_every_later_time_like_the_history(
    database: Database,
    tenant: int,
    small_sim: SimulatedData,
    loads: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    scan: bool,
) -> None:
    load_simulation(database, tenant, small_sim)
    if scan:  # as for a big tenant: one scan of the history, built in several steps
        monkeypatch.setattr(refresh, "MAX_IN_LIST", 1)
        monkeypatch.setattr(refresh, "BATCH", 37)
    built = datetime(2025, 3, 1, tzinfo=UTC)
    with database.tenant_session(tenant) as session:
        written = refresh_states(session, subject="customer", built_at=built)
        written += refresh_states(session, subject="lead", built_at=built)
        assert written == session.scalar(sa.select(sa.func.count()).select_from(FeatureState))
    # The history starts 400 days before the end: the states summarize what is older than
    # the cutoff, and the windows of every later time read the kept items.
    assert built - timedelta(days=LOOKBACK_DAYS) > datetime.combine(
        SIM_END - timedelta(days=400), datetime.min.time(), tzinfo=UTC
    )
    for at in (built, built + timedelta(days=13, hours=5), datetime(2025, 7, 1, tzinfo=UTC)):
        assert assert_online_equals_offline(database, tenant, at=at, loads=loads) >= 30


def test_a_time_before_the_build_reads_the_history(
    database: Database, tenant: int, small_sim: SimulatedData, loads: list[dict[str, Any]]
) -> None:
    load_simulation(database, tenant, small_sim)
    with database.tenant_session(tenant) as session:
        refresh_states(session, subject="customer", built_at=datetime(2025, 3, 1, tzinfo=UTC))
        ids = [int(i) for i in session.scalars(sa.select(Customer.id).limit(3))]
        early = int(datetime(2025, 2, 1, tzinfo=UTC).timestamp() * 1e6)
        assert load_states(session, subject="customer", ids=ids, as_of_us=early) is None


def _recent_sim() -> SimulatedData:
    """A small tenant whose history ends today, so the states built by imports (at the clock)
    have items on both sides of their cutoff."""
    return simulate(
        SimulationConfig(
            seed=11,
            end=date.today(),
            history_days=300,
            n_accounts=40,
            n_subscribers=150,
            n_leads=150,
            n_deals=0,
        )
    )


def _import(database: Database, tenant: int, kind: str, frame: pd.DataFrame) -> None:
    with database.tenant_session(tenant) as session:
        import_frame(session, kind=kind, frame=frame)


def _now() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=1)


def _halves(frame: pd.DataFrame) -> Iterator[pd.DataFrame]:
    middle = len(frame) // 2
    yield frame.iloc[middle:]
    yield frame.iloc[:middle]


def test_imports_keep_the_states_equal_to_the_history(
    database: Database, tenant: int, loads: list[dict[str, Any]]
) -> None:
    frames = _recent_sim().frames()
    _import(database, tenant, "customers", frames["accounts"])
    _import(database, tenant, "customers", frames["subscribers"])
    _import(database, tenant, "leads", frames["leads"])
    # Events before health, and the later half of each first.
    events = frames["events"].sample(frac=1.0, random_state=3)
    for half in _halves(events):
        _import(database, tenant, "events", half)
    for half in _halves(frames["health"]):
        _import(database, tenant, "health", half)
    assert_online_equals_offline(database, tenant, at=_now(), loads=loads)

    # The same rows again change nothing.
    _import(database, tenant, "events", events.iloc[: len(events) // 3])
    assert_online_equals_offline(database, tenant, at=_now(), loads=loads)

    # Late events, dated long before the states' cutoff and inside the windows.
    with database.tenant_session(tenant) as session:
        accounts = session.scalars(
            sa.select(Customer.external_id).where(Customer.kind == "account").limit(5)
        ).all()
        leads = session.scalars(sa.select(Lead.external_id).limit(5)).all()
    today = datetime.now(UTC)
    late = [
        {"event_id": f"late-{owner}-{n}", column: owner, "type": kind_, "occurred_at": when}
        for column, owners, kind_ in (
            ("customer_id", accounts, "login"),
            ("lead_id", leads, "email_open"),
        )
        for owner in owners
        for n, when in enumerate((today - timedelta(days=250), today - timedelta(days=3)))
    ]
    frame = pd.DataFrame(late)
    for column in ("customer_id", "lead_id"):
        if column not in frame:
            frame[column] = None
    _import(database, tenant, "events", frame)
    assert_online_equals_offline(database, tenant, at=_now(), loads=loads)

    # An event re-imported under another account and type: both accounts change.
    moved = frame.iloc[[0]].copy()
    moved["customer_id"] = accounts[1]
    moved["type"] = "ticket_opened"
    moved["occurred_at"] = today - timedelta(days=1)
    _import(database, tenant, "events", moved)
    assert_online_equals_offline(database, tenant, at=_now(), loads=loads)


def test_the_encoding_keeps_every_array_and_summary(
    database: Database, tenant: int, small_sim: SimulatedData
) -> None:
    load_simulation(database, tenant, small_sim)
    with database.tenant_session(tenant) as session:
        row = session.execute(
            sa.select(FeatureState.payload, FeatureState.built_at_us).where(
                FeatureState.subject == "customer"
            )
        ).first()
    assert row is not None
    state = decode(bytes(row[0]), built_at_us=int(row[1]))
    assert_same_state(decode(encode(state), built_at_us=state.built_at_us), state)


def assert_same_state(again: EntityState, state: EntityState) -> None:
    assert again.keys == state.keys and again.types == state.types
    assert again.valued == state.valued and again.built_at_us == state.built_at_us
    assert set(again.streams) == set(state.streams)
    pairs = [(again.streams[key], part) for key, part in state.streams.items()]
    assert (again.health is None) == (state.health is None)
    if state.health is not None and again.health is not None:
        pairs.append((again.health, state.health))
    for other, part in pairs:
        np.testing.assert_array_equal(other.time, part.time)
        assert set(other.values) == set(part.values)
        for name, values in part.values.items():
            np.testing.assert_array_equal(other.values[name], values)
        assert (other.prefix_count, other.prefix_time) == (part.prefix_count, part.prefix_time)
        assert other.prefix_sum == part.prefix_sum
        np.testing.assert_array_equal(
            [other.prefix_last[k] for k in sorted(other.prefix_last)],
            [part.prefix_last[k] for k in sorted(part.prefix_last)],
        )


def test_an_unreadable_state_is_read_from_the_history(
    database: Database, tenant: int, small_sim: SimulatedData, loads: list[dict[str, Any]]
) -> None:
    load_simulation(database, tenant, small_sim)
    at = datetime(2025, 7, 1, tzinfo=UTC)
    with database.tenant_session(tenant) as session:
        refresh_states(session, subject="customer", built_at=datetime(2025, 6, 1, tzinfo=UTC))
        ids = [int(i) for i in session.scalars(sa.select(Customer.id).limit(2))]
        session.execute(
            sa.update(FeatureState)
            .where(FeatureState.entity_id == ids[0], FeatureState.subject == "customer")
            .values(payload=b'\x05\x00\x00\x00{"a":')
        )
    with database.tenant_session(tenant) as session:
        as_of_us = int(at.timestamp() * 1e6)
        assert load_states(session, subject="customer", ids=ids, as_of_us=as_of_us) is None
        kind = session.scalar(sa.select(Customer.kind).where(Customer.id == ids[0]))
        frame = build_scoring_frame(
            session,
            prediction_type="CHURN",
            kind=kind,
            entity_ids=ids[:1],
            as_of=at,
            mode="point_in_time",
        )
        # The whole population: one unreadable state sends the build to the history.
        loads.clear()
        everyone = build_scoring_frame(
            session, prediction_type="CHURN", kind=kind, as_of=at, mode="point_in_time"
        )
        assert [call["online"].__name__ for call in loads] == ["EventStreams"]
        assert ids[0] in everyone.entity_ids.tolist()
    assert len(frame.frame) == 1


def test_many_states_decode_together_as_each_alone(
    database: Database,
    tenant: int,
    small_sim: SimulatedData,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load_simulation(database, tenant, small_sim)
    with database.tenant_session(tenant) as session:
        rows = session.execute(
            sa.select(FeatureState.entity_id, FeatureState.built_at_us, FeatureState.payload)
            .where(FeatureState.subject == "customer")
            .order_by(FeatureState.entity_id)
        ).all()
        ids = [int(row[0]) for row in rows]
        listed = load_states(session, subject="customer", ids=ids, as_of_us=2**62)
        # Above MAX_LISTED ids the states are read by one scan of the subject's.
        monkeypatch.setattr(state_store, "MAX_LISTED", 1)
        scanned = load_states(session, subject="customer", ids=ids, as_of_us=2**62)
    assert len(rows) > 100 and listed is not None and scanned is not None
    together = decode_many(
        (code, int(built), bytes(payload)) for code, (_, built, payload) in enumerate(rows)
    )
    for code, (_, built, payload) in enumerate(rows):
        alone = decode(bytes(payload), built_at_us=int(built))
        for columns in (together, listed, scanned):
            assert_same_state(columns.entity_state(code), alone)


def test_a_list_of_states_is_read_id_by_id(database: Database) -> None:
    """SQLite's plan for the states of MAX_IN_LIST entities: a seek per id through the (tenant,
    subject, entity) index. Through the tenant's own index it read every state of the tenant:
    0.2 s for 2,000 of 200,000 (bench/RESULTS.md)."""
    if database.engine.dialect.name != "sqlite":
        pytest.skip("reads SQLite's query plan")
    ids = list(range(1, MAX_IN_LIST + 1))
    bound = _LISTED.params({TENANT_PARAM: 1, "subject": "customer", "ids": ids})
    sql = bound.compile(dialect=database.engine.dialect, compile_kwargs={"literal_binds": True})
    with database.engine.connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
    steps = [row[-1] for row in plan]
    assert steps == [
        "SEARCH feature_states USING INDEX ix_feature_states_tenant_subject_entity "
        "(tenant_id=? AND subject=? AND entity_id=?)"
    ], steps
