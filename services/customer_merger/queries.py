"""Customer lookups over HTTP, answered from the matcher's committed local store.

- ``GET /customers/{golden_id}`` -> the golden record (survived values, lineage, members with
  their match evidence, Customer 360 summary);
- ``GET /customers?email=...`` / ``GET /customers?phone=...`` -> the golden records of the people
  with that (normalised) email or phone.

Only committed state is read (the store's on-disk snapshot, never an open transaction's
overlay), so an answer never shows something a crash could take back. An erased person is not
found: erasure deletes every key this module reads.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from bus.state.store import decode_value
from services.customer_merger.books import Books, ReadableStore
from services.customer_merger.golden import summarize, survive
from services.customer_merger.merge import Effects, Ledger
from services.customer_merger.normalize import normalize_email, normalize_phone
from services.customer_merger.records import SourceRecord
from services.customer_merger.settings import CustomerMergerSettings

__all__ = ["CustomerQueries", "QueryServer", "StoreSource"]


class _Backend(Protocol):
    def get(self, key: bytes) -> bytes | None: ...


class _Partition(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def backend(self) -> _Backend: ...


class StoreSource(Protocol):
    """The store partitions this process holds (``bus.state.StateManager`` is one)."""

    def partitions(self) -> Iterable[_Partition]: ...


class _Committed:
    """The committed snapshot of one store as a read-only key-value view."""

    def __init__(self, source: StoreSource, store: str) -> None:
        self._source = source
        self._store = store

    def get(self, key: str, default: Any = None) -> Any:
        for part in self._source.partitions():
            if part.name == self._store:
                raw = part.backend.get(key.encode())
                if raw is not None:
                    return decode_value(raw)[0]
        return default


class CustomerQueries:
    def __init__(self, view: ReadableStore, settings: CustomerMergerSettings) -> None:
        """``view``: committed state (:meth:`from_runtime`), or any ``get(key, default)`` (tests)."""
        self._view = view
        self._settings = settings

    @classmethod
    def from_runtime(
        cls, source: StoreSource, store: str, settings: CustomerMergerSettings
    ) -> CustomerQueries:
        return cls(_Committed(source, store), settings)

    def _ledger(self) -> Ledger:
        return Ledger(Books(self._view, "read-only"), Effects())

    def golden(self, golden_id: str) -> dict[str, Any] | None:
        ledger = self._ledger()
        state = ledger.golden(golden_id)
        if state is None:
            return None
        members: list[dict[str, Any]] = []
        records: list[SourceRecord] = []
        facts: dict[str, Any] = {}
        for customer_id in state["m"]:
            entry = ledger.entry(customer_id)
            if entry is None:
                continue
            record = SourceRecord.from_state(entry["r"])
            records.append(record)
            facts.update(ledger.books.get(f"o:{customer_id}") or {})
            members.append(
                {
                    "customer_id": customer_id,
                    "source": record.source.model_dump(mode="json"),
                    "evidence": entry["ev"],
                }
            )
        values, lineage = survive(records, self._settings)
        summary = summarize(facts)
        values.pop("members", None)
        return {
            "golden_id": golden_id,
            "revision": state.get("rev", 0),
            **{name: _plain(value) for name, value in values.items()},
            "lineage": lineage,
            "members": members,
            "summary": summary.model_dump(mode="json") if summary is not None else None,
        }

    def by_email(self, email: str) -> list[dict[str, Any]]:
        normalized = normalize_email(email, self._settings.email)
        return self._by_key(f"b:e:{normalized}") if normalized else []

    def by_phone(self, phone: str) -> list[dict[str, Any]]:
        normalized = normalize_phone(phone, self._settings.default_region)
        return self._by_key(f"b:p:{normalized}") if normalized else []

    def _by_key(self, key: str) -> list[dict[str, Any]]:
        ledger = self._ledger()
        goldens = sorted({g for g in (ledger.golden_of(c) for c in ledger.books.get(key) or ()) if g})
        return [answer for answer in (self.golden(g) for g in goldens) if answer is not None]


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return value


class QueryServer:
    """A small threaded HTTP server beside the processing loop."""

    def __init__(self, host: str, port: int, queries: CustomerQueries) -> None:
        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                parts = [part for part in url.path.strip("/").split("/") if part]
                query = parse_qs(url.query)
                try:
                    if parts == ["customers"] and ("email" in query or "phone" in query):
                        found = (
                            queries.by_email(query["email"][0])
                            if "email" in query
                            else queries.by_phone(query["phone"][0])
                        )
                        self._reply(200, {"customers": found})
                    elif len(parts) == 2 and parts[0] == "customers":
                        answer = queries.golden(parts[1])
                        if answer is None:
                            self._reply(404, {"error": "no such golden customer"})
                        else:
                            self._reply(200, answer)
                    else:
                        self._reply(404, {"error": "use /customers/{golden_id} or /customers?email=|phone="})
                except Exception as exc:  # a store closed by a rebalance mid-read: ask again
                    self._reply(503, {"error": f"store unavailable: {type(exc).__name__}"})

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body, default=str).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="customer-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
