"""``/healthz`` (the loop is alive), ``/readyz`` (assigned, restored, producer ready), ``/metrics``."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

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
    def __init__(self, host: str, port: int, health: Health, registry: CollectorRegistry) -> None:
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/healthz":
                    outer._reply(self, 200 if health.alive else 503, b"ok" if health.alive else b"stalled")
                elif self.path == "/readyz":
                    outer._reply(self, 200 if health.ready else 503, health.reason.encode())
                elif self.path == "/metrics":
                    outer._reply(self, 200, generate_latest(registry), CONTENT_TYPE_LATEST)
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
    def _reply(handler: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str = "text/plain") -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
