"""A tarpit webhook receiver on 127.0.0.1: it accepts, reads the request, then answers one
byte every `interval` seconds and never finishes. Each byte resets a per-read timeout, so
only a deadline for the whole attempt ends a request to it."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# An answer that never completes: a status line trickled out, then headers without end.
TRICKLE = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000


@dataclass
class Tarpit:
    interval: float = 1.0
    port: int = 0
    connections: int = 0
    in_flight: int = 0
    most_in_flight: int = 0
    # (seconds the connection stayed open, bytes sent) per connection the sender ended.
    ended: list[tuple[float, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def snapshot(self) -> tuple[int, int, list[tuple[float, int]]]:
        with self.lock:
            return self.connections, self.most_in_flight, list(self.ended)


def _serve_one(tarpit: Tarpit, conn: socket.socket) -> None:
    opened = time.monotonic()
    sent = 0
    with tarpit.lock:
        tarpit.connections += 1
        tarpit.in_flight += 1
        tarpit.most_in_flight = max(tarpit.most_in_flight, tarpit.in_flight)
    try:
        conn.settimeout(5)
        with contextlib.suppress(OSError):
            conn.recv(65536)  # the request (headers and a small body arrive together)
        for byte in TRICKLE:
            # Wait out the interval, but notice at once when the sender closes (readable
            # with nothing to read), so `in_flight` follows the sender.
            readable, _, _ = select.select([conn], [], [], tarpit.interval)
            if tarpit.stop.is_set() or (readable and not _recv(conn)):
                break
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                break
            sent += 1
    finally:
        conn.close()
        with tarpit.lock:
            tarpit.in_flight -= 1
            if not tarpit.stop.is_set():
                tarpit.ended.append((time.monotonic() - opened, sent))


def _recv(conn: socket.socket) -> bytes:
    try:
        return conn.recv(65536)
    except OSError:
        return b""


@contextmanager
def running_tarpit(interval: float = 1.0) -> Iterator[Tarpit]:
    tarpit = Tarpit(interval=interval)
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    tarpit.port = server.getsockname()[1]

    def accept() -> None:
        while not tarpit.stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(
                target=_serve_one, args=(tarpit, conn), name="tarpit-conn", daemon=True
            ).start()

    thread = threading.Thread(target=accept, name="tarpit", daemon=True)
    thread.start()
    try:
        yield tarpit
    finally:
        tarpit.stop.set()
        thread.join(timeout=5)
        server.close()
