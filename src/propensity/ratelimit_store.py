"""Rate-limit counters without Redis.

- `SharedFileStorage`: shared by the worker processes of one machine, in a small SQLite file
  of its own (never the data database, whose write lock imports hold), one row per counter
  and window. `propensity serve --workers N` uses it when no Redis is configured, so the
  documents' limits and daily quotas hold across workers instead of per process.
- `LocalStorage`: one process's counters in a dict. The `limits` library's MemoryStorage
  expires its counters with a 10 ms timer thread that a hit starts again whenever the last one
  has finished: under load, a new thread about every request, and `Thread.start()` waits for
  that thread to get the GIL from the busy request threads, several milliseconds in which the
  hit holds the limiter. Here a counter past its window simply reads as absent, and expired
  counters are dropped in passing.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from limits.storage import Storage

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS counters ("
    " key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL)"
)


class SharedFileStorage(Storage):
    """A `limits` storage in a SQLite file: fixed windows, exact across processes."""

    STORAGE_SCHEME = ["propensity-file"]

    def __init__(self, path: Path | str) -> None:
        super().__init__(uri=None)
        self._path = str(path)
        self._local = threading.local()
        with self._connection() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(SCHEMA)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # Autocommit; each counter change is one short immediate transaction.
            conn = sqlite3.connect(self._path, timeout=5.0, isolation_level=None)
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        conn = self._connection()
        now = time.time()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                "SELECT count, expires_at FROM counters WHERE key = ?", (key,)
            ).fetchone()
            if row is None or row[1] <= now:
                count, expires = amount, now + expiry
            else:
                count, expires = int(row[0]) + amount, float(row[1])
            conn.execute(
                "INSERT INTO counters (key, count, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET count = excluded.count, "
                "expires_at = excluded.expires_at",
                (key, count, expires),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return count

    def get(self, key: str) -> int:
        row = (
            self._connection()
            .execute(
                "SELECT count FROM counters WHERE key = ? AND expires_at > ?", (key, time.time())
            )
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = (
            self._connection()
            .execute(
                "SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?",
                (key, time.time()),
            )
            .fetchone()
        )
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        cursor = self._connection().execute("DELETE FROM counters")
        return cursor.rowcount

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM counters WHERE key = ?", (key,))


class LocalStorage(Storage):
    """A `limits` storage in this process's memory: fixed windows, thread-safe, no threads."""

    STORAGE_SCHEME = ["propensity-local"]
    # Expired counters are dropped once this many exist (every key of a window stays until
    # its window ends, so this bounds the sweeps, not the memory).
    SWEEP_AT = 10_000

    def __init__(self) -> None:
        super().__init__(uri=None)
        self._counters: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._sweep_at = self.SWEEP_AT

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def _live(self, key: str, now: float) -> tuple[int, float] | None:
        entry = self._counters.get(key)
        return entry if entry is not None and entry[1] > now else None

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            entry = self._live(key, now)
            count, expires = (
                (amount, now + expiry) if entry is None else (entry[0] + amount, entry[1])
            )
            self._counters[key] = (count, expires)
            if len(self._counters) >= self._sweep_at:
                self._counters = {k: v for k, v in self._counters.items() if v[1] > now}
                self._sweep_at = max(self.SWEEP_AT, 2 * len(self._counters))
        return count

    def get(self, key: str) -> int:
        with self._lock:
            entry = self._live(key, time.time())
        return entry[0] if entry is not None else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        with self._lock:
            entry = self._live(key, now)
        return entry[1] if entry is not None else now

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            count = len(self._counters)
            self._counters.clear()
        return count

    def clear(self, key: str) -> None:
        with self._lock:
            self._counters.pop(key, None)
