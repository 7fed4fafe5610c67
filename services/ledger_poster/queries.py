"""The trial balance over HTTP: ``GET /trial-balance/<entity>[/<period>]`` (periods, or one period).

The balance lives in the ``ledger`` store, one part per input partition. The runtime does not (yet)
let a service read its stores from outside the handler, so the query side keeps its own read replica:
:class:`ChangelogReplica` restores the store's changelog (every partition, read_committed) into local
SQLite files through the runtime's own restore, incrementally, before answering. Any instance can
therefore answer for every entity, a moment behind the poster at most.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping, Sequence
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

from bus.config import StateBackend
from bus.state.backends import open_backend
from bus.state.restore import RestoreTarget, restore
from bus.state.store import StorePartition
from services.ledger_poster.chart import Chart
from services.ledger_poster.trial_balance import combine, net_by_currency, periods_key, tb_key

__all__ = ["ChangelogReplica", "QueryServer", "StoreParts", "periods_report", "trial_balance_report"]

_ROUTE = re.compile(r"^/trial-balance/(?P<entity>[^/]+)(?:/(?P<period>\d{4}-\d{2}))?/?$")


class StoreParts(Protocol):
    def values(self, key: str) -> list[Any]:
        """The value of ``key`` in every partition that has it."""
        ...


def trial_balance_report(chart: Chart, entity: str, period: str, parts: Sequence[Any]) -> dict[str, Any]:
    balance = combine(parts)
    rows = []
    for key in sorted(balance):
        account, currency = key.rsplit("|", 1)
        debit, credit, f_debit, f_credit = balance[key]
        known = chart.accounts.get(account)
        rows.append(
            {
                "account": account,
                "name": known.name if known else None,
                "currency": currency,
                "debit": str(debit),
                "credit": str(credit),
                "balance": str(debit - credit),
                "functional_debit": str(f_debit),
                "functional_credit": str(f_credit),
                "functional_balance": str(f_debit - f_credit),
            }
        )
    nets = net_by_currency(balance)
    return {
        "entity": entity,
        "period": period,
        "functional_currency": chart.entities[entity].functional_currency,
        "accounts": rows,
        "net": {currency: str(value) for currency, value in sorted(nets.items())},
        "balanced": all(value == Decimal(0) for value in nets.values()),
    }


def periods_report(entity: str, parts: Sequence[Any]) -> dict[str, Any]:
    periods = sorted({period for part in parts for period in part or []})
    return {"entity": entity, "periods": periods}


class ChangelogReplica:
    """A local, incrementally restored copy of one store's changelog, all partitions."""

    def __init__(
        self, client_config: Mapping[str, str], changelog_topic: str, partitions: int, directory: Path
    ) -> None:
        self._client_config = dict(client_config)
        self._topic = changelog_topic
        self._stores = [
            StorePartition("replica", p, open_backend(StateBackend.SQLITE, directory / str(p)))
            for p in range(partitions)
        ]
        self._lock = threading.Lock()

    def refresh(self, timeout_s: float = 30.0) -> int:
        with self._lock:
            targets = [RestoreTarget(store, self._topic) for store in self._stores]
            return restore(self._client_config, f"{self._topic}.query", targets, timeout_s)

    def values(self, key: str) -> list[Any]:
        self.refresh()
        with self._lock:
            return [value for store in self._stores if (value := store.get(key)) is not None]

    def close(self) -> None:
        with self._lock:
            for store in self._stores:
                store.close()


class QueryServer:
    def __init__(self, host: str, port: int, chart: Chart, parts: StoreParts) -> None:
        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                match = _ROUTE.match(self.path)
                if match is None or match["entity"] not in chart.entities:
                    self._reply(404, {"error": "not found", "path": self.path})
                    return
                entity, period = match["entity"], match["period"]
                if period is None:
                    self._reply(200, periods_report(entity, parts.values(periods_key(entity))))
                else:
                    report = trial_balance_report(chart, entity, period, parts.values(tb_key(entity, period)))
                    self._reply(200, report)

            def _reply(self, status: int, body: Mapping[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="ledger-queries", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
