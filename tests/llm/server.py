"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol
(POST /v1/chat/completions), for the LLM tests. Its "good" answer is built from the facts in
the request, so it is grounded by construction; the other behaviours misbehave on purpose.

    good            a grounded answer (every text prefixed "Worded:")
    timeout         sleeps `delay` seconds before answering
    malformed       message content that is not JSON
    invent_driver   a churn driver that is not among the contributions
    invent_number   an explanation quoting a number that is not in the facts
    error500        HTTP 500
    refuse_schema   HTTP 400 for response_format json_schema, good in json_object mode

`script` lists behaviours for the next requests (then `mode` applies to the rest).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "Worded: "
INVENTED_NUMBER = 4817


def _risks(facts: dict[str, Any]) -> list[dict[str, Any]]:
    items = facts.get("contributions") or []
    risks = [c for c in items if c.get("effect") == "risk"]
    return risks or items


def _recommendations(facts: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"action": c["action"], "rationale": PREFIX + str(c.get("rationale") or c["action"])}
        for c in facts.get("candidateRecommendations") or []
    ]


def _explanation(facts: dict[str, Any]) -> str:
    prediction = facts.get("prediction") or {}
    parts = [PREFIX.strip()]
    probability = prediction.get("probability")
    if isinstance(probability, int | float):
        parts.append(f"the model gives {round(probability * 100)}%.")
    parts.extend(str(c["description"]) for c in _risks(facts)[:2])
    parts.extend((facts.get("context") or [])[:1])
    return " ".join(parts)


def grounded_answer(facts: dict[str, Any]) -> dict[str, Any]:
    task = facts["task"]
    if task == "ranked":
        return {
            "leads": [
                {"leadId": lead["leadId"], "reasoning": PREFIX + str(lead["templateReasoning"])}
                for lead in facts.get("leads") or []
            ],
            "summary": PREFIX + "; ".join(facts["prediction"].get("commonPatterns") or ["none"]),
        }
    answer: dict[str, Any] = {"explanation": _explanation(facts)}
    if task == "churn":
        answer["primaryChurnDrivers"] = [
            {"feature": c["feature"], "text": PREFIX + str(c["description"])}
            for c in _risks(facts)[:3]
        ]
    answer["recommendations"] = _recommendations(facts)
    return answer


class LlmServer:
    def __init__(self, *, mode: str = "good", delay: float = 3.0) -> None:
        self.mode = mode
        self.delay = delay
        self.script: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}/v1"

    def _next_mode(self) -> str:
        with self._lock:
            return self.script.pop(0) if self.script else self.mode

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                mode = server._next_mode()
                with server._lock:
                    server.requests.append(
                        {
                            "path": self.path,
                            "authorization": self.headers.get("Authorization"),
                            "body": request,
                            "mode": mode,
                        }
                    )
                if self.path != "/v1/chat/completions":
                    self._send(404, {"error": {"message": "not found"}})
                    return
                response_format = (request.get("response_format") or {}).get("type")
                if mode == "error500":
                    self._send(500, {"error": {"message": "internal error", "type": "server"}})
                    return
                if mode == "refuse_schema" and response_format == "json_schema":
                    self._send(
                        400,
                        {
                            "error": {
                                "message": "response_format json_schema is not supported",
                                "type": "invalid_request_error",
                            }
                        },
                    )
                    return
                if mode == "timeout":
                    time.sleep(server.delay)
                facts = json.loads(request["messages"][-1]["content"])
                answer = grounded_answer(facts)
                if mode == "invent_driver" and "primaryChurnDrivers" in answer:
                    answer["primaryChurnDrivers"][0]["feature"] = "zodiac_sign"
                if mode == "invent_number":
                    answer["explanation"] += f" Expect {INVENTED_NUMBER} more tickets."
                content = json.dumps(answer)
                if mode == "malformed":
                    content = content[: len(content) // 2]
                prompt_tokens = sum(len(m["content"]) for m in request["messages"]) // 4
                completion_tokens = max(len(content) // 4, 1)
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-{len(server.requests)}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": request.get("model", "test-model"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": content},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {
                            "prompt_tokens": prompt_tokens,
                            "completion_tokens": completion_tokens,
                            "total_tokens": prompt_tokens + completion_tokens,
                        },
                    },
                )

        return Handler

    def start(self) -> LlmServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()


@contextmanager
def running(**kwargs: Any) -> Iterator[LlmServer]:
    server = LlmServer(**kwargs).start()
    try:
        yield server
    finally:
        server.stop()
