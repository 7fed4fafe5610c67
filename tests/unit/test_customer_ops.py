"""Both roles in one process: one ops port whose readiness, health and metrics cover both runtimes,
with the matcher's queries relayed from its own (loopback) server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from bus.config import BusSettings, KafkaSettings, RuntimeSettings, SchemaRegistrySettings
from bus.observability.health import Health, HealthServer
from bus.observability.metrics import Metrics
from bus.query import QueryRouter
from bus.testing import StaticState
from services.customer_merger.books import Books, MemoryStore
from services.customer_merger.engine import MatchEngine
from services.customer_merger.handler import STORE, build_matcher
from services.customer_merger.ops import JointOpsServer, loopback
from services.customer_merger.records import InputKind, MatchInput
from services.customer_merger.settings import CustomerMergerSettings
from tests.unit.test_customer_matching import record

pytestmark = pytest.mark.unit

S = CustomerMergerSettings()


@dataclass
class _Role:
    """A runtime's ops parts, as ``bus.runtime.build_runtime`` makes them."""

    health: Health
    metrics: Metrics
    http: HealthServer | None


@pytest.fixture
def ops() -> Iterator[tuple[str, _Role, _Role]]:
    store = MemoryStore()
    books = Books(store, STORE)
    kim = record(email="kim@example.com", first_name="Kim", last_name="Lee")
    MatchEngine(S).apply(
        MatchInput(kind=InputKind.CUSTOMER, event_id="1", occurred_at_ms=0, record=kim), books
    )
    store.apply(books.changes())
    forward = _Role(Health(60), Metrics("customer-merger-forward"), None)
    match_health, match_metrics = Health(60), Metrics("customer-merger")
    queries = QueryRouter(build_matcher(S).queries, StaticState({STORE: [store.data]}))
    match = _Role(
        match_health,
        match_metrics,
        HealthServer("127.0.0.1", 0, match_health, match_metrics.registry, queries),
    )
    server = JointOpsServer("127.0.0.1", 0, {"forward": forward, "match": match}, match)
    assert match.http is not None
    match.http.start()
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}", forward, match
    finally:
        server.stop()
        match.http.stop()


def test_readiness_needs_both_roles(ops: tuple[str, _Role, _Role]) -> None:
    base, forward, match = ops
    match.health.set_ready(True, "assigned")
    answer = httpx.get(f"{base}/readyz")
    assert answer.status_code == 503
    assert "forward: starting" in answer.text
    forward.health.set_ready(True, "assigned")
    assert httpx.get(f"{base}/readyz").status_code == 200
    match.health.set_ready(False, "restoring")
    answer = httpx.get(f"{base}/readyz")
    assert answer.status_code == 503
    assert "match: restoring" in answer.text


def test_metrics_of_both_roles_on_one_port(ops: tuple[str, _Role, _Role]) -> None:
    base, forward, match = ops
    forward.metrics.records_in.labels(service="customer-merger-forward", topic="in").inc(3)
    match.metrics.records_in.labels(service="customer-merger", topic="match").inc(2)
    text = httpx.get(f"{base}/metrics").text
    assert 'esb_records_in_total{service="customer-merger-forward",topic="in"} 3.0' in text
    assert 'esb_records_in_total{service="customer-merger",topic="match"} 2.0' in text
    assert text.count("# TYPE esb_records_in_total counter") == 1  # one family, not two


def test_queries_are_relayed_to_the_matcher(ops: tuple[str, _Role, _Role]) -> None:
    base, _, _ = ops
    found = httpx.get(f"{base}/customers", params={"email": "KIM@example.com"})
    assert found.status_code == 200
    assert "ESB-State-Positions" in found.headers
    (golden,) = found.json()["customers"]
    assert httpx.get(f"{base}/customers/{golden['golden_id']}").json()["first_name"] == "Kim"
    assert httpx.get(f"{base}/customers/unknown").status_code == 404


def test_each_runtime_gets_a_loopback_port_only_when_ops_are_on() -> None:
    kafka, registry = KafkaSettings(bootstrap_servers="k:9092"), SchemaRegistrySettings(url="mock://x")
    on = BusSettings(kafka=kafka, schema_registry=registry, runtime=RuntimeSettings(http_port=9400))
    assert (loopback(on).runtime.http_host, loopback(on).runtime.http_port) == ("127.0.0.1", 0)
    assert loopback(on).runtime.instance_id == on.runtime.instance_id
    off = BusSettings(kafka=kafka, schema_registry=registry, runtime=RuntimeSettings(http_port=None))
    assert loopback(off).runtime.http_port is None
