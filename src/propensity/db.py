"""Engine, sessions and the one place where tenant scoping is enforced.

Every ORM query that touches a tenant-owned table gets `tenant_id = <session tenant>`
added by a `do_orm_execute` hook, and every new tenant-owned row is stamped with the
session's tenant in `before_flush`. A session without a tenant may not touch tenant data
unless it was opened explicitly as a system session (CLI administration, job recovery).
The hot serving path's prebuilt Core statements filter by a `tenant` parameter themselves and
run through `tenant_execute` (writes) or `db_read.tenant_read` (reads), which bind it (ADR 0001,
amendments "prebuilt statements" and "the prebuilt reads on the driver's cursor").
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar, TypeVarTuple, overload

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    declared_attr,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)
from sqlalchemy.orm import Session as Session  # re-exported: surfaces type the session
from sqlalchemy.types import TypeDecorator

from propensity.errors import Unavailable
from propensity.lru import LruCache
from propensity.settings import Settings, get_settings
from propensity.write_signal import WRITER_KEY, WriteSignal, signal_for, watch

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

P = ParamSpec("P")
T = TypeVar("T")
Ts = TypeVarTuple("Ts")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_stamp() -> int:
    """A fresh random version stamp (never an increment: two writers cannot agree on one)."""
    return secrets.randbits(62)


def committing(call: Callable[Concatenate[Session, P], T]) -> Callable[Concatenate[Session, P], T]:
    """`call` (a core function that writes in the caller's transaction) as a unit of work of
    its own: it runs, then the session commits. For callers that never touch the transaction
    (the dashboard's pages). When it raises, nothing is committed."""

    @functools.wraps(call)
    def unit_of_work(session: Session, /, *args: P.args, **kwargs: P.kwargs) -> T:
        result = call(session, *args, **kwargs)
        session.commit()
        return result

    return unit_of_work


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset otherwise)."""

    impl = sa.DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class TenantOwned:
    """Mixin for every row that belongs to a tenant."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:  # noqa: N805 - SQLAlchemy's declared_attr convention
        return mapped_column(
            sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False
        )


class TenantScopeError(RuntimeError):
    """A query on tenant data was attempted without a tenant (a programming error)."""


TENANT_KEY = "tenant_id"
SYSTEM_KEY = "system"


def tenant_owned_tables() -> list[sa.Table]:
    return [
        mapper.local_table  # type: ignore[misc]
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, TenantOwned)
    ]


def _touches_tenant_tables(statement: Any) -> bool:
    owned = {table.name for table in tenant_owned_tables()}
    return any(
        isinstance(element, sa.Table) and element.name in owned
        for element in sa.sql.visitors.iterate(statement)
    )


@event.listens_for(Session, "do_orm_execute")
def _scope_to_tenant(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get("skip_tenant_scope"):
        return
    tenant_id = state.session.info.get(TENANT_KEY)
    if tenant_id is None:
        if state.session.info.get(SYSTEM_KEY) or not _touches_tenant_tables(state.statement):
            return
        raise TenantScopeError("query on tenant-owned data from a session without a tenant")
    # Applied to every statement, not only those whose entities ORM reports: a
    # `select(func.count()).select_from(Model)` lists no mappers yet reads tenant rows.
    state.statement = state.statement.options(_tenant_criteria(tenant_id))


# Making the option (and having SQLAlchemy analyse its lambda) cost about a quarter of a
# small statement's time; one per tenant is kept instead. The tenant id is the lambda's
# closure value, which SQLAlchemy binds as a parameter, so every tenant shares one compiled
# statement either way.
_TENANT_CRITERIA: LruCache[int, Any] = LruCache(4096)


def _tenant_criteria(tenant_id: int) -> Any:
    option = _TENANT_CRITERIA.get(tenant_id)
    if option is None:
        option = with_loader_criteria(
            TenantOwned,
            lambda cls: cls.tenant_id == tenant_id,
            include_aliases=True,
        )
        _TENANT_CRITERIA.put(tenant_id, option)
    return option


# The bind parameter a tenant_execute/tenant_scalars statement filters by.
TENANT_PARAM = "tenant"


def cache_scope(session: Session) -> tuple[Any, ...]:
    """The database and tenant a per-process cache keys an entry by: the URL and the engine
    itself, so two databases behind one URL in a process (tests) never share an entry."""
    bind = session.get_bind()
    return (str(bind.engine.url), id(bind.engine), session.info.get(TENANT_KEY))


def tenant_matches(column: Any) -> sa.ColumnElement[bool]:
    """`column = :tenant`: the filter every statement run through tenant_execute or
    tenant_scalars carries on each tenant-owned table it reads."""
    result: sa.ColumnElement[bool] = column == sa.bindparam(TENANT_PARAM, type_=sa.Integer)
    return result


@overload
def tenant_execute(
    session: Session, statement: sa.Select[*Ts], params: dict[str, Any] | None = None
) -> sa.CursorResult[*Ts]: ...
@overload
def tenant_execute(
    session: Session, statement: sa.Update | sa.TextClause, params: dict[str, Any] | None = None
) -> sa.CursorResult[*tuple[Any, ...]]: ...
def tenant_execute(
    session: Session, statement: Any, params: dict[str, Any] | None = None
) -> sa.CursorResult[*tuple[Any, ...]]:
    """Runs a prebuilt Core statement of the hot serving path on the session's connection,
    binding the session's tenant to the statement's own `tenant` parameter.

    The ORM's execution (and the hook above) costs about 100 us per statement, four times
    what a primary-key lookup costs SQLite; a request makes half a dozen of them. These
    statements therefore filter by tenant themselves, and a statement without a `tenant`
    parameter is refused. Pending ORM changes are flushed first, as session.execute would."""
    tenant_id = statement_tenant(session, statement)
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, {**(params or {}), TENANT_PARAM: tenant_id})


def tenant_scalars(
    session: Session, statement: sa.Select[T], params: dict[str, Any] | None = None
) -> sa.ScalarResult[T]:
    """tenant_execute for a prebuilt statement that loads ORM objects (they need the session):
    the same check and binding, through the session with the hook skipped (the statement
    filters by its `tenant` parameter itself)."""
    tenant_id = statement_tenant(session, statement)
    return session.scalars(
        statement, {**(params or {}), TENANT_PARAM: tenant_id}, execution_options=_SKIP_HOOK
    )


_SKIP_HOOK = {"skip_tenant_scope": True}


def statement_tenant(session: Session, statement: Any) -> int:
    """The session's tenant, for a statement that filters by a `tenant` parameter."""
    tenant_id = session.info.get(TENANT_KEY)
    if tenant_id is None:
        raise TenantScopeError("a tenant statement from a session without a tenant")
    if _CHECKED.get(statement) is None:
        if TENANT_PARAM not in statement.compile().params:
            raise TenantScopeError("this statement does not filter by a `tenant` parameter")
        _CHECKED.put(statement, True)
    return int(tenant_id)


# The statements seen to carry the parameter (module-level ones: a handful).
_CHECKED: LruCache[Any, bool] = LruCache(1024)


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session: Session, _context: Any, _instances: Any) -> None:
    tenant_id = session.info.get(TENANT_KEY)
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantOwned):
            continue
        if obj.tenant_id is None:
            if tenant_id is None:
                raise TenantScopeError(f"new {type(obj).__name__} has no tenant")
            obj.tenant_id = tenant_id
        elif tenant_id is not None and obj.tenant_id != tenant_id:
            raise TenantScopeError(
                f"{type(obj).__name__} of tenant {obj.tenant_id} written from tenant {tenant_id}"
            )


@event.listens_for(Session, "after_begin")
def _note_writer(session: Session, _transaction: Any, connection: sa.Connection) -> None:
    # Whose data a write on this connection changes, for the write signal (write_signal.py).
    connection.info[WRITER_KEY] = session.info.get(TENANT_KEY)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


# Connections for every thread that can hold one at once: a server worker's request threads
# (settings.request_threads, 16 by default) plus the job consumer's, with room to spare. A
# request that still finds none waits POOL_TIMEOUT seconds and gets a 503 with Retry-After.
POOL_SIZE = 16
POOL_OVERFLOW = 24
POOL_TIMEOUT = 3
# How long a SQLite writer waits for another's write lock before the request is answered
# 503 SERVER_BUSY (a bulk import holds it for its whole transaction).
BUSY_TIMEOUT_MS = 10_000
# Rows sampled per index when refreshing SQLite's planner statistics.
ANALYSIS_LIMIT = 2000


def create_db_engine(url: str) -> Engine:
    pool = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW, "pool_timeout": POOL_TIMEOUT}
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            # No pre-ping: a SQLite connection is a handle on a local file and never goes
            # stale the way a server's connection does; the ping was a SELECT 1 per checkout.
            **pool,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, **pool)


class Database:
    """An engine and its session factory; one per process and database URL."""

    def __init__(self, url: str, *, redis_url: str | None = None) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        # Raised by every commit that wrote, read by the per-process answer caches.
        self.writes: WriteSignal = signal_for(url, redis_url=redis_url)
        watch(self.engine, self.writes)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    def session(self, *, tenant_id: int | None = None, system: bool = False) -> Session:
        session = self._factory()
        session.info[TENANT_KEY] = tenant_id
        session.info[SYSTEM_KEY] = system
        return session

    @contextmanager
    def tenant_session(self, tenant_id: int) -> Iterator[Session]:
        """A unit of work for one tenant: committed on success, rolled back on error."""
        with self.session(tenant_id=tenant_id) as session, session.begin():
            yield session

    @contextmanager
    def request_session(self, tenant_id: int) -> Iterator[Session]:
        """A request's session for one tenant: the core commits what it writes; whatever is
        left open when the request ends (a read, or a write abandoned by an error) is rolled
        back."""
        with self.session(tenant_id=tenant_id) as session:
            try:
                yield session
            finally:
                if session.in_transaction():
                    session.rollback()

    @contextmanager
    def system_session(self) -> Iterator[Session]:
        with self.session(system=True) as session, session.begin():
            yield session

    def reachable(self) -> bool:
        """Whether the database answers a trivial query now (health checks)."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def unavailable_on_outage(message: str) -> Iterator[None]:
    """Turns a database that cannot be reached or fails to answer (OperationalError) inside
    the block into the core's 503 Unavailable (code DATABASE_UNAVAILABLE) with `message`,
    for the documents that word that outage themselves."""
    try:
        yield
    except sa.exc.OperationalError as exc:
        raise Unavailable(message, code="DATABASE_UNAVAILABLE") from exc


_databases: dict[str, Database] = {}


def get_database(settings: Settings | None = None) -> Database:
    settings_ = settings or get_settings()
    url = settings_.resolved_database_url
    if url not in _databases:
        if url.startswith("sqlite:///"):
            from pathlib import Path

            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        _databases[url] = Database(url, redis_url=settings_.redis_url)
    return _databases[url]


def dispose_all() -> None:
    for db in _databases.values():
        db.dispose()
    _databases.clear()


def refresh_planner_statistics(
    connection: sa.Connection, *, tables: Sequence[str] | None = None
) -> None:
    """Gives SQLite's query planner current table statistics. Without them it guesses, and
    picks e.g. the (tenant, type, status) index to supersede one customer's prediction,
    visiting every active prediction of the tenant (measured: 9.6 ms against 0.09 ms per
    forced prediction on the demo tenant). Analyses `tables` (all when None), sampling at
    most ANALYSIS_LIMIT rows per index so it stays fast on millions of rows. PostgreSQL
    keeps its statistics itself (autovacuum), so this does nothing there."""
    if connection.dialect.name != "sqlite":
        return
    connection.exec_driver_sql(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
    if tables is None:
        connection.exec_driver_sql("ANALYZE")
        return
    for table in tables:
        if not table.isidentifier():
            raise ValueError(f"not a table name: {table!r}")
        connection.exec_driver_sql(f'ANALYZE "{table}"')
