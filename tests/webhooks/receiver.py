"""A real webhook receiver on 127.0.0.1: verifies signatures, fails on purpose, records."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from propensity.webhooks import signing


@dataclass(frozen=True)
class Received:
    path: str
    event_id: str
    event_type: str
    attempt: int
    body: dict[str, object]
    signature_ok: bool
    answered: int  # the status code it answered (0: it stalled past the sender's timeout)
    host: str = ""  # the Host header


@dataclass
class Receiver:
    """`plan` is what to answer the next requests, in order ("500", "timeout", "200"...);
    once used up it answers 200 (or `fallback`). `plan_by_event` is the same for one event's
    requests, whatever order the sender's retries interleave in (it comes first). A request
    whose signature does not verify gets a 401. `accepted` lists the event ids answered 2xx:
    what a receiver acts on."""

    port: int = 0
    secrets: dict[str, str] = field(default_factory=dict)  # path -> secret
    plan: list[str] = field(default_factory=list)
    plan_by_event: dict[str, list[str]] = field(default_factory=dict)
    fallback: str = "200"
    stall_seconds: float = 1.5
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook", *, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    @property
    def accepted(self) -> list[str]:
        with self.lock:
            return [r.event_id for r in self.received if 200 <= r.answered < 300]

    def requests(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def next_answer(self, event_id: str = "") -> str:
        with self.lock:
            if own := self.plan_by_event.get(event_id):
                return own.pop(0)
            return self.plan.pop(0) if self.plan else self.fallback


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:  # quiet test output
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            secret = receiver.secrets.get(self.path, "")
            ok = signing.verify(secret, self.headers.get(signing.SIGNATURE_HEADER, ""), raw)
            event_id = self.headers.get(signing.EVENT_ID_HEADER, "")
            answer = receiver.next_answer(event_id) if ok else "401"
            if answer == "timeout":
                time.sleep(receiver.stall_seconds)  # the sender has given up by now
                status = 503
            else:
                status = int(answer)
            body = json.loads(raw)
            with receiver.lock:
                receiver.received.append(
                    Received(
                        path=self.path,
                        event_id=event_id,
                        event_type=self.headers.get(signing.EVENT_TYPE_HEADER, ""),
                        attempt=int(self.headers.get(signing.ATTEMPT_HEADER, "0")),
                        body=body,
                        signature_ok=ok,
                        answered=0 if answer == "timeout" else status,
                        host=self.headers.get("Host", ""),
                    )
                )
            try:
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the sender closed the connection after its timeout

    return Handler


@contextmanager
def running_receiver(**options: object) -> Iterator[Receiver]:
    receiver = Receiver(**options)  # type: ignore[arg-type]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
