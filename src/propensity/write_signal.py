"""Which tenants' data changed: a signal every process writing to one database raises after
each commit that wrote, and that per-process caches read to know their entries still hold.

A cache entry is stamped with the signal read *before* the data it holds was read; it holds
while the signal still reads the same. A commit raises the signal only after it committed,
so a reader either saw the old signal (its entry dies at the raise) or read the new data.

The signal is two 64-bit words per read: the database's (raised by writes whose tenant is
unknown: system sessions, raw connections, migrations) and the tenant's. A raise writes a
fresh random word, never an increment, so two processes raising at once cannot leave a
value a reader has already seen. Tenants share a slot modulo `SLOTS`: a collision only
costs the other tenant's entries.

Where it lives: in a small memory-mapped file shared by the processes of one machine
(beside a SQLite database, in the temporary folder for another database), and also in Redis
when one is configured, for replicas on several machines (DESIGN: scale-out on PostgreSQL +
Redis). Both are raised and both are read, so a process configured without Redis still
signals the others of its machine."""

from __future__ import annotations

import hashlib
import mmap
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
import structlog
from sqlalchemy import event
from sqlalchemy.engine import Engine

log = structlog.get_logger(__name__)

SLOTS = 4096
WORD = 8
# The tenant a connection's current transaction writes for, and whether it wrote: set on the
# connection (its pool record's info) by db.py's hooks, read and cleared when it is returned.
WRITER_KEY = "propensity_writer_tenant"
WROTE_KEY = "propensity_wrote"
CHANGES_KEY = "propensity_changes_at_checkout"
# Statements that never change data; anything else counts as a write (a spurious raise only
# costs cache entries, a missed one would serve stale answers).
READ_PREFIXES = ("SELECT", "PRAGMA", "SAVEPOINT", "RELEASE", "ROLLBACK", "SHOW", "EXPLAIN")

Stamp = tuple[int, ...]


class WriteSignal(Protocol):
    def read(self, tenant_id: int) -> Stamp | None:
        """The signal for `tenant_id` now; None when it cannot be read (nothing may be
        served from a cache then)."""
        ...

    def raise_for(self, tenant_id: int | None) -> None:
        """A commit wrote `tenant_id`'s data (None: any tenant's, or unknown)."""
        ...


def _fresh() -> int:
    return int.from_bytes(os.urandom(WORD), "little")


def _digest(database_url: str) -> str:
    """A short name for the database, for keys and files that must not show its URL."""
    return hashlib.sha256(database_url.encode()).hexdigest()[:16]


def _slot(tenant_id: int) -> int:
    return 1 + tenant_id % SLOTS


class FileSignal:
    """The signal in a file memory-mapped by every process of this machine."""

    def __init__(self, path: Path) -> None:
        size = WORD * (SLOTS + 1)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            # Processes racing here all extend it to the same size with zeros.
            if os.fstat(fd).st_size < size:
                os.ftruncate(fd, size)
            self._map = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        self._words = memoryview(self._map).cast("Q")
        self.path = path

    def read(self, tenant_id: int) -> Stamp | None:
        words = self._words
        return words[0], words[_slot(tenant_id)]

    def raise_for(self, tenant_id: int | None) -> None:
        self._words[0 if tenant_id is None else _slot(tenant_id)] = _fresh()


class RedisSignal:
    """The signal in Redis, for processes on several machines.

    When Redis fails to answer, a read gives None (no kept answer is served) and a raise is
    logged; for `RETRY_AFTER` seconds after that neither waits for Redis again (a Redis that
    accepts connections and never answers would otherwise cost every request and every
    commit the socket timeout). Raises missed meanwhile are made up for at the first contact
    after it: the database's signal is raised, which ends every tenant's kept answers. Until
    then other machines' entries live at most their own time limit (serving/answers.py)."""

    RETRY_AFTER = 5.0

    def __init__(self, url: str, *, database_url: str) -> None:
        import redis

        self._client: Any = redis.Redis.from_url(url, socket_timeout=0.5)
        self._error: type[Exception] = redis.RedisError
        prefix = "propensity:writes:" + _digest(database_url)
        self._global = prefix + ":all"
        self._prefix = prefix + ":t:"
        self._down_until = 0.0
        self._missed = False

    def _up(self) -> bool:
        return time.monotonic() >= self._down_until

    def _catch_up(self) -> None:
        if self._missed:
            self._client.set(self._global, _fresh())
            self._missed = False

    def _failed(self, exc: Exception, *, missed: bool) -> None:
        self._missed = self._missed or missed
        self._down_until = time.monotonic() + self.RETRY_AFTER
        log.warning("write_signal_redis_unavailable", error=type(exc).__name__)

    def read(self, tenant_id: int) -> Stamp | None:
        if not self._up():
            return None
        try:
            self._catch_up()
            both = self._client.mget(self._global, f"{self._prefix}{_slot(tenant_id)}")
        except self._error as exc:
            self._failed(exc, missed=False)
            return None
        return int(both[0] or 0), int(both[1] or 0)

    def raise_for(self, tenant_id: int | None) -> None:
        if not self._up():
            self._missed = True
            return
        key = self._global if tenant_id is None else f"{self._prefix}{_slot(tenant_id)}"
        try:
            self._catch_up()
            self._client.set(key, _fresh())
        except self._error as exc:
            self._failed(exc, missed=True)


class Unreadable:
    """No signal (its file could not be made): nothing may be served from a cache."""

    def read(self, tenant_id: int) -> Stamp | None:
        return None

    def raise_for(self, tenant_id: int | None) -> None:
        return None


class Signals:
    """Several signals raised together; a read is all of theirs."""

    def __init__(self, *parts: WriteSignal) -> None:
        self._parts = parts

    def read(self, tenant_id: int) -> Stamp | None:
        stamp: Stamp = ()
        for part in self._parts:
            read = part.read(tenant_id)
            if read is None:
                return None
            stamp += read
        return stamp

    def raise_for(self, tenant_id: int | None) -> None:
        for part in self._parts:
            part.raise_for(tenant_id)


def signal_for(database_url: str, *, redis_url: str | None) -> WriteSignal:
    """The signal of the database at `database_url`, shared by every process using it."""
    if database_url.startswith("sqlite:///") and database_url != "sqlite:///:memory:":
        database = Path(database_url.removeprefix("sqlite:///"))
        path = database.with_name(database.name + "-writes")
    else:
        path = Path(tempfile.gettempdir()) / f"propensity-writes-{_digest(database_url)}"
    local: WriteSignal
    try:
        local = FileSignal(path)
    except OSError as exc:
        log.warning("write_signal_unavailable", path=str(path), error=type(exc).__name__)
        local = Unreadable()
    if redis_url:
        return Signals(local, RedisSignal(redis_url, database_url=database_url))
    return local


def is_read(statement: str) -> bool:
    return statement.lstrip()[:9].upper().startswith(READ_PREFIXES)


def has_written(connection: sa.Connection) -> bool:
    """Whether this checked-out connection of a watched engine changed anything since it was
    checked out (True when that is not known): its transaction may hold write locks."""
    if connection.dialect.name == "sqlite":
        before = connection.info.get(CHANGES_KEY)
        dbapi_connection = connection.connection.dbapi_connection
        return (
            before is None
            or dbapi_connection is None
            or getattr(dbapi_connection, "total_changes", None) != before
        )
    return bool(connection.info.get(WROTE_KEY, False))


def watch(engine: Engine, signal: WriteSignal) -> None:
    """Raises `signal` whenever a connection of `engine` that wrote goes back to the pool:
    after its transaction committed (or rolled back: a spurious raise), for the tenant the
    session that used it was scoped to (db.py notes it when the transaction begins; None for
    raw connections and system sessions). The pool is where every write path ends (the ORM,
    Core statements on a session's connection, raw connections), so none is missed.

    Whether it wrote: SQLite counts the rows each connection changed (`total_changes`), so
    comparing the count at check-out and check-in costs nothing per statement (a statement
    hook cost 4 us on each, and 11 us on each check-out). Other databases have no such count:
    every statement that is not a read marks its connection."""
    if engine.dialect.name == "sqlite":

        def counted(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
            record.info[CHANGES_KEY] = dbapi_connection.total_changes

        def announce_counted(dbapi_connection: Any, record: Any) -> None:
            info = record.info
            tenant_id = info.pop(WRITER_KEY, None)
            before = info.pop(CHANGES_KEY, None)
            if dbapi_connection is not None and dbapi_connection.total_changes != before:
                signal.raise_for(tenant_id)

        event.listen(engine, "checkout", counted)
        event.listen(engine, "checkin", announce_counted)
        return

    def note_write(
        conn: sa.Connection,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        if not is_read(statement):
            conn.info[WROTE_KEY] = True

    def announce(_dbapi_connection: Any, record: Any) -> None:
        info = record.info
        tenant_id = info.pop(WRITER_KEY, None)
        if info.pop(WROTE_KEY, False):
            signal.raise_for(tenant_id)

    event.listen(engine, "before_cursor_execute", note_write)
    event.listen(engine, "checkin", announce)
