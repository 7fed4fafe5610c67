"""A fake Business Central API v2.0 company for connector tests: salesOrders with salesOrderLines.

It keeps what the connector relies on: ``$filter`` on ``externalDocumentNumber`` with
``$expand=salesOrderLines``, deep insert, ``@odata.etag`` per order and per line (a line change also
changes its order's etag: Business Central re-totals the header), ``If-Match`` required on PATCH and
DELETE with ``412`` when it is stale, and refusals in Business Central's error shape for what its
state forbids (a shipped line deleted or reduced below the shipped quantity, any write to a released
order). Usable as an ``httpx.MockTransport`` (unit tests) or as a local HTTP server (integration).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import httpx

__all__ = ["Call", "FakeBusinessCentral"]

_ORDERS = re.compile(
    r"^.*?/api/v2\.0/companies\(([^)]+)\)/salesOrders(?:\(([^)]+)\))?(?:/salesOrderLines(?:\(([^)]+)\))?)?$"
)
_INVOICES = re.compile(r"^.*?/api/v2\.0/companies\(([^)]+)\)/salesInvoices$")
_FILTER = re.compile(r"externalDocumentNumber eq '((?:[^']|'')*)'")


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # without the query
    query: str
    if_match: str | None
    body: dict[str, Any] | None


def _error(status: int, code: str, message: str) -> tuple[int, bytes]:
    return status, json.dumps({"error": {"code": code, "message": message}}).encode()


@dataclass
class FakeBusinessCentral:
    calls: list[Call] = field(default_factory=list)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    released: set[str] = field(default_factory=set)  # order ids whose status forbids changes
    invoiced: set[str] = field(default_factory=set)  # externalDocumentNumbers of posted invoices
    before_write: Callable[[FakeBusinessCentral, Call], None] | None = None  # e.g. a user edits
    _etags: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- state helpers for tests -------------------------------------------------------------
    def _tag(self, record: dict[str, Any]) -> None:
        record["@odata.etag"] = f'W/"JzE5OzE{next(self._etags)}Oyc="'

    def order_by_reference(self, reference: str) -> dict[str, Any] | None:
        found = [o for o in self.orders.values() if o["externalDocumentNumber"] == reference]
        return found[0] if found else None

    def touch(self, order_id: str) -> None:
        """Someone changed the order in Business Central: its etag moves on."""
        self._tag(self.orders[order_id])

    def writes(self) -> list[Call]:
        return [call for call in self.calls if call.method != "GET"]

    # -- the API ------------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> tuple[int, bytes]:
        path, _, query = target.partition("?")
        body = json.loads(raw, parse_float=Decimal) if raw else None
        call = Call(method, unquote(path), unquote(query), headers.get("if-match"), body)
        with self._lock:
            self.calls.append(call)
            if method != "GET" and self.before_write is not None:
                self.before_write(self, call)
            if method == "GET" and _INVOICES.match(call.path):
                wanted = _FILTER.search(call.query)
                assert wanted is not None, call.query
                found = [{"id": "inv-1", "number": "103001"}] if wanted.group(1) in self.invoiced else []
                return 200, _dumps({"value": found})
            matched = _ORDERS.match(call.path)
            if matched is None:
                return _error(404, "BadRequest_NotFound", f"no resource {call.path}")
            _company, order_id, line_id = matched.groups()
            is_lines = "/salesOrderLines" in call.path
            if method == "GET" and order_id is None:
                return self._query(call.query)
            if method == "POST" and order_id is None:
                return self._create(body or {})
            order = self.orders.get(order_id or "")
            if order is None:
                return _error(404, "BadRequest_NotFound", "The sales order does not exist.")
            if method in ("PATCH", "DELETE"):
                entity = order if not is_lines else self._line(order, line_id)
                if entity is None:
                    return _error(404, "BadRequest_NotFound", "The sales order line does not exist.")
                if call.if_match is None:
                    return _error(428, "BadRequest_PreconditionRequired", "If-Match is required.")
                if call.if_match not in ("*", entity["@odata.etag"]):
                    return _error(
                        412, "Request_EntityChanged", "Another user has already changed the record."
                    )
            if order_id in self.released:
                return _error(
                    400,
                    "Application_FieldValidationException",
                    "Status must be equal to 'Open' in Sales Header.",
                )
            if not is_lines:
                return self._order(method, order, body or {})
            return self._lines(method, order, line_id, body or {})

    def _query(self, query: str) -> tuple[int, bytes]:
        wanted = _FILTER.search(query)
        assert wanted is not None, query
        reference = wanted.group(1).replace("''", "'")
        found = [o for o in self.orders.values() if o["externalDocumentNumber"] == reference]
        expand = "$expand=salesOrderLines" in query
        value = [o if expand else {k: v for k, v in o.items() if k != "salesOrderLines"} for o in found]
        return 200, _dumps({"value": value})

    def _create(self, body: dict[str, Any]) -> tuple[int, bytes]:
        order_id = str(uuid.uuid4())
        lines = body.pop("salesOrderLines", [])
        order = {"id": order_id, "number": f"S-ORD{101000 + len(self.orders)}", **body, "salesOrderLines": []}
        self.orders[order_id] = order
        for line in lines:
            self._add_line(order, line)
        self._tag(order)
        return 201, _dumps(order)

    def _add_line(self, order: dict[str, Any], line: dict[str, Any]) -> dict[str, Any]:
        sequence = (
            line.get("sequence")
            or max((ln["sequence"] for ln in order["salesOrderLines"]), default=0) + 10000
        )
        created = {
            "id": str(uuid.uuid4()),
            "documentId": order["id"],
            "shippedQuantity": 0,
            "invoicedQuantity": 0,
            **line,
            "sequence": sequence,
            "lineObjectNumber": str(line.get("lineObjectNumber", "")).upper(),
        }
        self._tag(created)
        order["salesOrderLines"].append(created)
        return created

    @staticmethod
    def _line(order: dict[str, Any], line_id: str | None) -> dict[str, Any] | None:
        return next((ln for ln in order["salesOrderLines"] if ln["id"] == line_id), None)

    def _order(self, method: str, order: dict[str, Any], body: dict[str, Any]) -> tuple[int, bytes]:
        if method == "DELETE":
            shipped = [ln for ln in order["salesOrderLines"] if ln["shippedQuantity"] > 0]
            if shipped:
                return _error(
                    400,
                    "Application_DialogException",
                    "You cannot delete the order because one or more lines have been shipped.",
                )
            del self.orders[order["id"]]
            return 204, b""
        if method == "PATCH":
            order.update(body)
            self._tag(order)
            return 200, _dumps(order)
        return 200, _dumps(order)

    def _lines(
        self, method: str, order: dict[str, Any], line_id: str | None, body: dict[str, Any]
    ) -> tuple[int, bytes]:
        if method == "POST":
            created = self._add_line(order, body)
            self._tag(order)
            return 201, _dumps(created)
        line = self._line(order, line_id)
        if line is None:
            return 200, _dumps({"value": order["salesOrderLines"]})
        if method == "DELETE":
            if line["shippedQuantity"] > 0:
                return _error(
                    400, "Application_DialogException", "You cannot delete a line that has been shipped."
                )
            order["salesOrderLines"].remove(line)
        else:
            if "quantity" in body and Decimal(body["quantity"]) < line["shippedQuantity"]:
                return _error(
                    400,
                    "Application_FieldValidationException",
                    "Quantity must not be less than Quantity Shipped.",
                )
            line.update(body)
            self._tag(line)
        self._tag(order)
        return (204, b"") if method == "DELETE" else (200, _dumps(line))

    # -- transports ---------------------------------------------------------------------------
    def transport(self) -> httpx.MockTransport:
        def answer(request: httpx.Request) -> httpx.Response:
            target = request.url.raw_path.decode()
            headers = {k.lower(): v for k, v in request.headers.items()}
            status, content = self.handle(request.method, target, headers, request.content)
            return httpx.Response(status, content=content, headers={"Content-Type": "application/json"})

        return httpx.MockTransport(answer)

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        """The fake on 127.0.0.1 (ephemeral port); yields its base URL."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, content = fake.handle(self.command, self.path, headers, self.rfile.read(length))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PATCH = do_DELETE = _handle  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                return None

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, name="fake-business-central", daemon=True)
        thread.start()
        try:
            host, port = server.server_address[:2]
            yield f"http://{host!s}:{port}"
        finally:
            server.shutdown()
            server.server_close()


def _dumps(value: Any) -> bytes:
    return json.dumps(value, default=lambda d: float(d) if isinstance(d, Decimal) else str(d)).encode()
