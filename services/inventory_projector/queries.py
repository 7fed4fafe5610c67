"""Interactive ATP queries over HTTP, answered from this instance's committed SKU store.

``GET /atp/{sku}`` -> every location of the SKU and the channel values last published;
``GET /atp/{sku}/{location}`` -> one stock position. Path segments are percent-decoded.

Every answer says what it reflects: the store partition and the changelog offset of its committed
snapshot, and per location the input record (topic, partition, offset) whose processing produced
the level. Only committed state is read (never the open transaction's overlay), so an answer is
never something a crash could take back. A SKU whose partition another instance owns answers 404
with ``"owner": "elsewhere"``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import unquote

from bus.state.store import decode_value
from services.inventory_projector.records import utc

__all__ = ["AtpQueries", "QueryServer", "StoreSource"]


class _Backend(Protocol):
    def get(self, key: bytes) -> bytes | None: ...

    def changelog_offset(self) -> int | None: ...


class _Partition(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def partition(self) -> int: ...

    @property
    def backend(self) -> _Backend: ...


class StoreSource(Protocol):
    """The store partitions this process holds (``bus.state.StateManager`` is one)."""

    def partitions(self) -> Iterable[_Partition]: ...


class AtpQueries:
    def __init__(self, source: StoreSource, store: str) -> None:
        self._source = source
        self._store = store

    def _find(self, sku: str) -> tuple[dict[str, Any], int, int | None] | None:
        key = sku.encode()
        for part in self._source.partitions():
            if part.name != self._store:
                continue
            raw = part.backend.get(key)
            if raw is not None:
                value, _ = decode_value(raw)
                return value, part.partition, part.backend.changelog_offset()
        return None

    def sku(self, sku: str) -> dict[str, Any] | None:
        found = self._find(sku)
        if found is None:
            return None
        entry, partition, changelog_offset = found
        locations = {name: _location(data) for name, data in sorted(entry["l"].items())}
        return {
            "sku": sku,
            "available_to_promise": sum(loc["available_to_promise"] for loc in locations.values()),
            "locations": locations,
            "channels": {name: slot[0] for name, slot in sorted(entry["c"].items())},
            "reflects": {"store_partition": partition, "changelog_offset": changelog_offset},
        }

    def position(self, sku: str, location: str) -> dict[str, Any] | None:
        found = self._find(sku)
        if found is None or location not in found[0]["l"]:
            return None
        entry, partition, changelog_offset = found
        answer = {"sku": sku, "location": location, **_location(entry["l"][location])}
        answer["reflects"] = {
            **answer["reflects"],
            "store_partition": partition,
            "changelog_offset": changelog_offset,
        }
        return answer


def _location(data: dict[str, Any]) -> dict[str, Any]:
    topic, partition, offset = data["src"]
    return {
        "on_hand": data["oh"],
        "reserved": data["rs"],
        "safety_stock": data["ss"],
        "available_to_promise": data["atp"],
        "revision": data["rv"],
        "as_of": utc(data["ao"]).isoformat(),
        "reflects": {"topic": topic, "partition": partition, "offset": offset},
    }


class QueryServer:
    """A small threaded HTTP server; runs beside the processing loop in the same process."""

    def __init__(self, host: str, port: int, queries: AtpQueries) -> None:
        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = [unquote(part) for part in self.path.split("?", 1)[0].strip("/").split("/")]
                if len(parts) not in (2, 3) or parts[0] != "atp" or not all(parts[1:]):
                    self._reply(404, {"error": "use /atp/{sku} or /atp/{sku}/{location}"})
                    return
                try:
                    if len(parts) == 2:
                        answer = queries.sku(parts[1])
                    else:
                        answer = queries.position(parts[1], parts[2])
                except Exception as exc:  # a store closed by a rebalance mid-read: ask again
                    self._reply(503, {"error": f"store unavailable: {type(exc).__name__}"})
                    return
                if answer is None:
                    self._reply(404, {"error": "unknown here", "owner": "elsewhere or nowhere"})
                else:
                    self._reply(200, answer)

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="atp-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
