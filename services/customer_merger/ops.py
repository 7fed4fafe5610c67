"""One ops port for both roles when they share a process (``CUSTOMER_MERGER_ROLE=all``).

The runtime gives each runtime its own ops server on ``ESB_HTTP_PORT``; two runtimes in one
process would both bind it. With both roles, each runtime's own server listens on a loopback port
the OS picks (:func:`loopback`), and :class:`JointOpsServer` answers on ``ESB_HTTP_PORT``:

- ``/healthz``: 200 while both processing loops beat; ``/readyz``: 200 only when both roles are
  ready (the body names each role's state), so a probe never routes to a half-started process;
- ``/metrics``: both runtimes' registries in one exposition (families merged by name; every
  sample carries its ``service`` label);
- any other GET (the matcher's interactive queries, ``/customers/...``): relayed to the matcher's
  own loopback server, status, headers and body unchanged.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric

from bus.config import BusSettings
from bus.observability.health import Health, HealthServer
from bus.observability.metrics import Metrics

__all__ = ["JointOpsServer", "RoleOps", "loopback"]

_RELAYED_HEADERS = ("Content-Type", "ESB-State-Positions", "Retry-After")


def loopback(bus: BusSettings) -> BusSettings:
    """``bus`` with each runtime's own ops server on a free loopback port (off when ops are off)."""
    if bus.runtime.http_port is None:
        return bus
    return bus.model_copy(
        update={"runtime": bus.runtime.model_copy(update={"http_host": "127.0.0.1", "http_port": 0})}
    )


class _Merged:
    """The metric families of several registries, merged by name (a ``prometheus_client`` Collector)."""

    def __init__(self, registries: Iterable[CollectorRegistry]) -> None:
        self._registries = list(registries)

    def describe(self) -> list[Metric]:
        return []  # no names claimed: the sources' families share names by design

    def collect(self) -> Iterable[Metric]:
        families: dict[str, Metric] = {}
        for registry in self._registries:
            for family in registry.collect():
                merged = families.get(family.name)
                if merged is None:
                    merged = Metric(family.name, family.documentation, family.type, family.unit)
                    families[family.name] = merged
                merged.samples.extend(family.samples)
        return list(families.values())


class RoleOps(Protocol):
    """What the joint server reads of one role's runtime (``bus.runtime.Runtime`` is one)."""

    @property
    def health(self) -> Health: ...

    @property
    def metrics(self) -> Metrics: ...

    @property
    def http(self) -> HealthServer | None: ...


class JointOpsServer:
    """``/healthz``, ``/readyz`` and ``/metrics`` of several runtimes, queries relayed to one."""

    def __init__(self, host: str, port: int, roles: Mapping[str, RoleOps], queries_from: RoleOps) -> None:
        if queries_from.http is None:
            raise ValueError("the runtime that serves the queries has no ops server to relay to")
        relay_port = queries_from.http.port
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Merged(runtime.metrics.registry for runtime in roles.values()))
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/healthz":
                    stalled = [name for name, runtime in roles.items() if not runtime.health.alive]
                    outer._reply(
                        self, 503 if stalled else 200, _text("stalled", stalled) if stalled else b"ok"
                    )
                elif self.path == "/readyz":
                    ready = all(runtime.health.ready for runtime in roles.values())
                    states = "; ".join(f"{name}: {runtime.health.reason}" for name, runtime in roles.items())
                    outer._reply(self, 200 if ready else 503, states.encode())
                elif self.path == "/metrics":
                    outer._reply(self, 200, generate_latest(registry), {"Content-Type": CONTENT_TYPE_LATEST})
                else:
                    outer._relay(self, relay_port)

            def log_message(self, format: str, *args: Any) -> None:
                return  # query strings carry emails and phones: nothing of a request is logged

        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="customer-merger-ops", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @staticmethod
    def _reply(
        handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: Mapping[str, str] | None = None
    ) -> None:
        handler.send_response(status)
        for name, value in (headers or {"Content-Type": "text/plain"}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _relay(self, handler: BaseHTTPRequestHandler, port: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", handler.path)
            response = connection.getresponse()
            body = response.read()
        except OSError as exc:  # the matcher's server is down: the process is stopping or dying
            self._reply(
                handler, 503, f"queries unavailable: {type(exc).__name__}".encode(), {"Retry-After": "1"}
            )
            return
        finally:
            connection.close()
        headers = {
            name: value for name in _RELAYED_HEADERS if (value := response.getheader(name)) is not None
        }
        self._reply(handler, response.status, body, headers)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _text(what: str, names: list[str]) -> bytes:
    return f"{what}: {', '.join(names)}".encode()
