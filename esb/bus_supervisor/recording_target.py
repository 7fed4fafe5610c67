"""A stand-in for the ERP/WMS/storefront APIs: it accepts every document and records it.

``python -m esb.bus_supervisor.recording_target --port 9480 --out records.jsonl``

- ``POST|PUT|PATCH <any path>``: recorded (method, path, idempotency key, traceparent, body, time);
  answers 201 with a document id, or 200 with the same id for a repeated ``Idempotency-Key``.
- ``GET /_records[?contains=<text>]``: the recorded documents (those whose body contains the text).
- ``GET /healthz``, ``GET /readyz``.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

__all__ = ["RecordingTarget", "handler_class", "main"]


class RecordingTarget:
    """The recorded documents, in memory and appended to a JSON-lines file."""

    def __init__(self, out: Path | None) -> None:
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []
        self._by_key: dict[str, str] = {}
        self.duplicates = 0
        self._out = out

    def record(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        key = headers.get("idempotency-key") or headers.get("x-idempotency-key")
        with self._lock:
            if key and key in self._by_key:
                self.duplicates += 1
                return 200, self._by_key[key]
            document_id = str(uuid.uuid4())
            entry = {
                "id": document_id,
                "received_at": time.time(),
                "method": method,
                "path": path,
                "idempotency_key": key,
                "traceparent": headers.get("traceparent"),
                "content_type": headers.get("content-type"),
                "body": body.decode("utf-8", errors="replace"),
            }
            self._records.append(entry)
            if key:
                self._by_key[key] = document_id
            if self._out is not None:
                with self._out.open("a") as handle:
                    handle.write(json.dumps(entry) + "\n")
            return 201, document_id

    def query(self, contains: str | None) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self._records if contains is None or contains in r["body"]]


def handler_class(target: RecordingTarget) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _write(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, document_id = target.record(self.command, self.path, headers, body)
            self._reply(status, {"id": document_id})

        do_POST = do_PUT = do_PATCH = _write  # noqa: N815 - http.server's naming

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path in ("/healthz", "/readyz"):
                self._reply(200, {"status": "ok"})
            elif url.path == "/_records":
                contains = parse_qs(url.query).get("contains", [None])[0]
                records = target.query(contains)
                self._reply(200, {"count": len(records), "duplicates": target.duplicates, "records": records})
            else:
                self._reply(404, {"error": "POST documents anywhere; GET /_records to read them"})

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return  # bodies and keys stay out of the logs

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--out", type=Path, default=None, help="append every document to this JSON-lines file"
    )
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), handler_class(RecordingTarget(args.out)))
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
