"""A local HTTP target for connector tests: records every request and answers as scripted.

``RecordingServer`` listens on 127.0.0.1 (ephemeral port) in a background thread. By default it
answers 201 with a small JSON body; ``script`` queues forced answers (429 with Retry-After, 500,
400 with a vendor error body) consumed in order, and ``rule`` lets a test decide per request.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Answer", "Recorded", "RecordingServer"]


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Answer:
    status: int = 201
    body: bytes = b'{"id": "1"}'
    headers: dict[str, str] = field(default_factory=dict)


class RecordingServer:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.script: deque[Answer] = deque()
        self.rule: Callable[[Recorded], Answer | None] | None = None
        self.answered: list[int] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                recorded = Recorded(
                    self.command, self.path, dict(self.headers.items()), self.rfile.read(length)
                )
                answer = owner._answer(recorded)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_PATCH = _handle  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="recording-server", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _answer(self, recorded: Recorded) -> Answer:
        with self._lock:
            self.requests.append(recorded)
            answer = self.script.popleft() if self.script else None
        if answer is None and self.rule is not None:
            answer = self.rule(recorded)  # outside the lock: a rule may block to hold requests open
        answer = answer or Answer()
        with self._lock:
            self.answered.append(answer.status)
        return answer

    def writes(self) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method != "GET"]

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def netsuite_error(code: str, detail: str) -> bytes:
    """NetSuite REST's error body shape (RFC 7807 with ``o:errorDetails``)."""
    return json.dumps(
        {
            "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
            "title": "Bad Request",
            "status": 400,
            "o:errorDetails": [{"detail": detail, "o:errorCode": code}],
        }
    ).encode()
