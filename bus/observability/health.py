"""``/healthz`` (the loop is alive), ``/readyz`` (assigned, restored, producer ready), ``/metrics``,
and the service's interactive queries (:mod:`bus.query`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bus.query import QueryRouter

__all__ = ["Health", "HealthServer"]


class Health:
    """Written by the processing loop, read by the HTTP thread."""

    def __init__(self, stall_after_s: float) -> None:
        self._stall_after_s = stall_after_s
        self._beat = time.monotonic()
        self.ready = False
        self.reason = "starting"

    def beat(self) -> None:
        self._beat = time.monotonic()

    @property
    def alive(self) -> bool:
        return time.monotonic() - self._beat < self._stall_after_s

    def set_ready(self, ready: bool, reason: str) -> None:
        self.ready = ready
        self.reason = reason


class HealthServer:
    def __init__(
        self,
        host: str,
        port: int,
        health: Health,
        registry: CollectorRegistry,
        queries: QueryRouter | None = None,
    ) -> None:
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/healthz":
                    outer._reply(self, 200 if health.alive else 503, b"ok" if health.alive else b"stalled")
                elif self.path == "/readyz":
                    outer._reply(self, 200 if health.ready else 503, health.reason.encode())
                elif self.path == "/metrics":
                    outer._reply(self, 200, generate_latest(registry), CONTENT_TYPE_LATEST)
                elif queries is not None and (answer := queries.answer(self.path)) is not None:
                    outer._reply(self, answer.status, answer.body, headers=answer.headers)
                else:
                    outer._reply(self, 404, b"not found")

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="esb-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @staticmethod
    def _reply(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        ctype: str = "text/plain",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        handler.send_response(status)
        for name, value in (headers or {"Content-Type": ctype}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
