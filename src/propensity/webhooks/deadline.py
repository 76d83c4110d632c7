"""One clock for a whole delivery attempt, whatever the receiver does.

httpx's timeouts are per phase and per socket operation: a receiver that answers one byte
every few seconds resets the read timeout with each byte and can hold a request, and the
consumer thread sending it, for as long as it likes. A `Deadline` bounds the whole attempt:

- every socket operation (connect, TLS, each write, each read) gets at most the time left,
  and none starts once it has run out (`DeadlineBackend`, the network backend of the
  attempt's connection pool);
- a watchdog shuts down the attempt's sockets when the deadline passes, which also ends the
  operations a per-operation timeout cannot bound (a TLS handshake or a send that progresses
  a byte at a time);
- name resolution, which has no timeout of its own, runs on a helper thread waited for only
  until the deadline (a lookup that hangs finishes there on its own and is ignored).
"""

from __future__ import annotations

import contextlib
import functools
import socket
import ssl
import threading
import time
import typing
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import httpcore
import httpx

T = typing.TypeVar("T")

# Sends the event in pieces, so a receiver that reads slowly meets the deadline between them.
WRITE_CHUNK = 16 * 1024
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-resolve")


class DeadlineExceeded(Exception):
    """The attempt's deadline passed before name resolution finished."""


class Deadline:
    """`seconds` from now; `remaining()` and `expired` read a monotonic clock."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self._ends = self.started + seconds
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._fired = False
        self._hit = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._timer.cancel()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float:
        return self._ends - time.monotonic()

    @property
    def expired(self) -> bool:
        return self._hit or self.remaining() <= 0

    def bound(self, timeout: float | None, error: type[Exception]) -> float:
        """`timeout` cut to the time left; raises `error` when none is left."""
        left = self.remaining()
        if left <= 0:
            raise error(f"the attempt's deadline of {self.seconds:g} s passed")
        return left if timeout is None else min(timeout, left)

    def run(self, op: Callable[[float], T], timeout: float | None, error: type[Exception]) -> T:
        """`op(t)` with `timeout` cut to the time left. A timeout of an operation the deadline
        cut short counts as the deadline, even if the clock reads a hair before it."""
        bounded = self.bound(timeout, error)
        try:
            return op(bounded)
        except httpcore.TimeoutException:
            if timeout is None or bounded < timeout:
                self._hit = True
            raise

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            fired = self._fired
            if not fired:
                self._sockets.append(sock)
        if fired:
            _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self._fired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)

    def call(self, fn: Callable[[], T]) -> T:
        """`fn()` on a helper thread, waited for until the deadline."""
        left = self.remaining()
        if left <= 0:
            raise DeadlineExceeded
        future = _resolver.submit(fn)
        try:
            return future.result(timeout=left)
        except FutureTimeout:
            future.cancel()
            raise DeadlineExceeded from None


def _shut(sock: socket.socket) -> None:
    # shutdown() wakes an operation blocked on the socket in another thread; close() would not.
    with contextlib.suppress(OSError):  # already closed, or never connected
        sock.shutdown(socket.SHUT_RDWR)


class DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline
        deadline.watch(inner.get_extra_info("socket"))

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._deadline.run(
            lambda t: self._inner.read(max_bytes, t), timeout, httpcore.ReadTimeout
        )

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        view = memoryview(buffer)
        for start in range(0, len(view), WRITE_CHUNK):
            piece = bytes(view[start : start + WRITE_CHUNK])
            self._deadline.run(
                functools.partial(self._inner.write, piece), timeout, httpcore.WriteTimeout
            )

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = self._deadline.run(
            lambda t: self._inner.start_tls(ssl_context, server_hostname, t),
            timeout,
            httpcore.ConnectTimeout,
        )
        return DeadlineStream(tls, self._deadline)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's blocking backend with every operation bounded by `deadline`."""

    def __init__(self, deadline: Deadline) -> None:
        self._inner = httpcore.SyncBackend()
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._deadline.run(
            lambda t: self._inner.connect_tcp(host, port, t, local_address, socket_options),
            timeout,
            httpcore.ConnectTimeout,
        )
        return DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("webhooks are sent over TCP only")

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, min(seconds, self._deadline.remaining())))


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport on a `DeadlineBackend`, without proxies from the environment."""

    def __init__(self, deadline: Deadline) -> None:
        super().__init__(trust_env=False)
        # httpx takes no network backend: the pool it built is replaced by the same kind of
        # pool on the deadline's backend (verification and limits as httpx's defaults).
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=DeadlineBackend(deadline),
        )
