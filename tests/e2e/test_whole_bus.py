"""The whole bus on the real stack: every service as its own process, a fixed demo set through the
gateway, and the outcomes checked where they land (topics, query endpoints, the recording target,
Jaeger).

The services are those of the Helm chart (``esb.bus_supervisor.services.bus_services``): a service
that is not built yet, or does not start, fails its own test here, and the checks that need it fail
with the reason, so the report shows which parts of the bus are missing.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from esb.bus_supervisor.services import bus_services
from esb.bus_supervisor.supervisor import (
    BusLayout,
    BusPlan,
    PlannedProcess,
    ProcessState,
    apply_governance,
    plan_bus,
    start_bus,
    status,
    stop_bus,
)
from esb.demo.fx import publish_rates
from esb.demo.generator import DemoEvent, Generator
from esb.demo.runner import RunSummary, run_events
from esb.demo.secrets import DemoSecrets
from esb.observe.kafka_view import KafkaView, ScannedRecord
from esb.observe.report import find_trace, recorded_documents, trial_balance
from tests.infra import StackEndpoints

pytestmark = pytest.mark.e2e

T = TypeVar("T")
WAIT_S = 120.0  # how long results may take to appear; polling stops as soon as they do
CHART_SERVICES = [spec.name for spec in bus_services()]


def poll(probe: Callable[[], T], done: Callable[[T], bool], timeout_s: float = WAIT_S) -> T:
    """Call ``probe`` until ``done`` accepts its answer or the time is up; return the last answer."""
    deadline = time.monotonic() + timeout_s
    answer = probe()
    while not done(answer) and time.monotonic() < deadline:
        time.sleep(2.0)
        answer = probe()
    return answer


@dataclass(frozen=True, slots=True)
class RunningBus:
    layout: BusLayout
    plan: BusPlan
    states: dict[str, ProcessState]
    stack: StackEndpoints


@dataclass(frozen=True, slots=True)
class DemoRun:
    generator: Generator
    events: list[DemoEvent]
    summary: RunSummary
    since_ms: int


@pytest.fixture(scope="module")
def bus(stack: StackEndpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBus]:
    layout = BusLayout(Path(tmp_path_factory.mktemp("bus")))
    apply_governance(stack, replication_factor=1)
    plan = plan_bus(stack, instance_id=f"e2e-{uuid.uuid4().hex[:8]}", base_port=None, gateway_port=None)
    try:
        states = start_bus(layout, plan, ready_timeout_s=150.0)
        yield RunningBus(layout, plan, {s.name: s for s in states}, stack)
    finally:
        stop_bus(layout)


@pytest.fixture(scope="module")
def demo(bus: RunningBus) -> DemoRun:
    if bus.plan.gateway_url is None:
        pytest.fail("no gateway: nothing can enter the bus")
    secrets = DemoSecrets.load(bus.layout.secrets_file)
    since_ms = int(time.time() * 1000) - 1000
    publish_rates(bus.stack.bootstrap_servers, bus.stack.schema_registry_url)
    generator = Generator(secrets, seed=11, tag=f"E2E{uuid.uuid4().hex[:6].upper()}")
    events = generator.fixed_set(orders_per_channel=3, duplicated_people=4)
    summary = run_events(
        events,
        gateway_url=bus.plan.gateway_url,
        secrets=secrets,
        kafka_config={"bootstrap.servers": bus.stack.bootstrap_servers},
        rate=25.0,
        limit=len(events),
    )
    return DemoRun(generator, events, summary, since_ms)


@pytest.fixture(scope="module")
def view(bus: RunningBus) -> Iterator[KafkaView]:
    reader = KafkaView(bus.stack.bootstrap_servers, bus.stack.schema_registry_url)
    yield reader
    reader.close()


def _records(view: KafkaView, topic: str, since_ms: int) -> list[ScannedRecord]:
    return [r for r in view.scan(topic, since_ms=since_ms) if isinstance(r.value, Mapping)]


def _our_orders(view: KafkaView, run: DemoRun) -> dict[str, str]:
    """'channel:native id' -> canonical order id, for the demo's orders that reached canonical.orders.v1."""
    wanted = {o.key for o in run.generator.ledger.orders}
    found: dict[str, str] = {}
    for record in _records(view, "canonical.orders.v1", run.since_ms):
        order = record.value["order"]
        key = f"{order['channel']}:{order['native_id']}"
        if key in wanted:
            found[key] = str(order["order_id"])
    return found


def _require(bus: RunningBus, *names: str) -> None:
    """Fail at once, naming the reason, when a service this check needs is missing or down."""
    running = {state.name: state for state in status(bus.layout)}
    for name in names:
        assert name not in bus.plan.missing, f"{name} is not built yet (services/{name.replace('-', '_')})"
        assert name in running, f"{name} is not part of the bus"
        assert running[name].pid is not None, f"{name} is not running (log: {running[name].log_file})"


def _expected_orders(run: DemoRun) -> set[str]:
    return {o.key for o in run.generator.ledger.orders}


# ---- the processes -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CHART_SERVICES)
def test_service_runs_as_its_own_process_and_is_ready(bus: RunningBus, name: str) -> None:
    assert name not in bus.plan.missing, f"services/{name.replace('-', '_')}/__main__.py does not exist yet"
    state = bus.states[name]
    log = Path(state.log_file).read_text(errors="replace").splitlines()[-15:] if state.pid is None else []
    assert state.pid is not None, f"{name} exited:\n" + "\n".join(log)
    assert state.ready, f"{name} is running but not ready ({state.url})"


def test_the_gateway_accepts_every_signed_webhook(demo: DemoRun) -> None:
    assert demo.summary.skipped == {}, (
        f"ingress topics missing from the catalog: {dict(demo.summary.skipped)}"
    )
    assert demo.summary.errors == {}
    assert dict(demo.summary.by_status) == {"200": len(demo.events)}


def test_every_order_reaches_the_canonical_topic(demo: DemoRun, view: KafkaView) -> None:
    expected = _expected_orders(demo)
    found = poll(lambda: _our_orders(view, demo), lambda f: set(f) >= expected)
    assert sorted(expected - set(found)) == []


# ---- the done-when list -------------------------------------------------------------------------


def test_every_order_has_a_routing_decision(bus: RunningBus, demo: DemoRun, view: KafkaView) -> None:
    _require(bus, "translator", "order-router")
    orders = poll(lambda: _our_orders(view, demo), lambda f: set(f) >= _expected_orders(demo))
    wanted = set(orders.values())
    assert wanted, "no order of the demo reached canonical.orders.v1"

    def routed() -> set[str]:
        return {str(r.value["order_id"]) for r in _records(view, "canonical.routed-orders.v1", demo.since_ms)}

    decided = poll(routed, lambda ids: ids >= wanted)
    missing = {key for key, order_id in orders.items() if order_id not in decided}
    assert sorted(missing) == [], "orders without a routing decision on canonical.routed-orders.v1"


def test_every_order_has_an_erp_document_at_the_recording_target(
    bus: RunningBus, demo: DemoRun, view: KafkaView
) -> None:
    _require(bus, "translator", "egress", "connectors")
    orders = poll(lambda: _our_orders(view, demo), lambda f: set(f) >= _expected_orders(demo))
    assert orders, "no order of the demo reached canonical.orders.v1"

    def undelivered() -> set[str]:
        bodies = [d["body"] for d in recorded_documents(bus.plan.target_url)]
        return {
            key
            for key, order_id in orders.items()
            if not any(_mentions(body, order_id, key.split(":", 1)[1]) for body in bodies)
        }

    missing = poll(undelivered, lambda left: not left)
    assert sorted(missing) == [], "orders without a document at the ERP stand-in"


def _mentions(body: str, order_id: str, native_id: str) -> bool:
    """A target document names the order by canonical id (with or without dashes) or native id."""
    return order_id in body or order_id.replace("-", "") in body or native_id in body


def _recomputed_atp(view: KafkaView, since_ms: int, skus: set[str]) -> dict[tuple[str, str], int]:
    """ATP per (SKU, location) from the movements and reservations alone (safety stock 0)."""
    on_hand: dict[tuple[str, str], int] = defaultdict(int)
    reserved: dict[tuple[str, str], int] = defaultdict(int)
    for record in _records(view, "canonical.stock-movements.v1", since_ms):
        value = record.value
        if value["sku"] not in skus:
            continue
        position = (value["sku"], value["location"])
        if value["kind"] == "ABSOLUTE_COUNT":
            on_hand[position] = int(value["quantity"])
        else:
            on_hand[position] += int(value["quantity"])
    for record in _records(view, "canonical.reservations.v1", since_ms):
        value = record.value
        if value["sku"] not in skus:
            continue
        position = (value["sku"], value["location"])
        reserved[position] += (
            int(value["quantity"]) if value["kind"] == "RESERVE" else -int(value["quantity"])
        )
    return {p: max(on_hand[p] - reserved[p], 0) for p in set(on_hand) | set(reserved)}


def test_atp_equals_a_recomputation_from_movements_and_reservations(
    bus: RunningBus, demo: DemoRun, view: KafkaView
) -> None:
    _require(bus, "translator", "inventory-projector")
    projector = bus.plan.process("inventory-projector")
    assert projector is not None, "no inventory projector in the bus"
    skus = {p.sku for p in demo.generator.products}
    expected = poll(lambda: _recomputed_atp(view, demo.since_ms, skus), lambda atp: len(atp) >= len(skus))
    assert expected, "no stock movement of the demo's SKUs reached canonical.stock-movements.v1"

    def served() -> dict[tuple[str, str], int] | str:
        answer: dict[tuple[str, str], int] = {}
        statuses = set()
        for sku in skus:
            response = _get_atp(projector, sku)
            if isinstance(response, str):
                return response
            statuses.add(response.status_code)
            if response.status_code == 200:
                for location, level in response.json()["locations"].items():
                    answer[(sku, location)] = int(level["available_to_promise"])
        if 200 not in statuses:
            return f"the projector's ATP query answers {sorted(statuses)} for every SKU of the demo"
        return answer

    def settled(answer: dict[tuple[str, str], int] | str) -> bool:
        if isinstance(answer, str):  # no connection: final; 404s: the projector may still catch up
            return "does not answer" in answer
        return answer == _recomputed_atp(view, demo.since_ms, skus)

    actual = poll(served, settled)
    assert not isinstance(actual, str), actual
    assert actual == _recomputed_atp(view, demo.since_ms, skus)


def _get_atp(projector: PlannedProcess, sku: str) -> httpx.Response | str:
    """GET /atp/<sku> on the projector's ops port (runtime queries)."""
    try:
        return httpx.get(f"{projector.ops_url}/atp/{sku}", timeout=5)
    except httpx.HTTPError as error:
        return f"the projector's ATP query does not answer: {projector.ops_url}: {type(error).__name__}"


def test_the_trial_balance_is_zero_per_currency(bus: RunningBus, demo: DemoRun, view: KafkaView) -> None:
    _require(bus, "translator", "ledger-poster")
    orders = len(demo.generator.ledger.orders)

    def books() -> tuple[dict[str, Decimal], int]:
        return trial_balance(view, demo.since_ms)

    balance, entries = poll(books, lambda b: b[1] >= orders)
    assert entries >= orders, f"{entries} journal entries for {orders} orders"
    assert balance, "journal entries without lines"
    assert {currency: amount for currency, amount in balance.items() if amount != 0} == {}


def test_duplicates_across_channels_merge_into_the_expected_golden_customers(
    bus: RunningBus, demo: DemoRun, view: KafkaView
) -> None:
    _require(bus, "translator", "customer-merger")
    people: dict[tuple[str, str], str] = {}
    for person, records in demo.generator.ledger.customer_records.items():
        for system, native in records:
            people[(system, native)] = person
    assert len(set(people.values())) >= 2, "the fixed set has duplicated people"

    def crosswalk() -> dict[tuple[str, str], str]:
        """(system, native id) of the demo's customer records -> their latest golden id."""
        latest: dict[tuple[str, str], str] = {}
        for record in _records(view, "canonical.customer-crosswalk.v1", demo.since_ms):
            source = record.value["source"]
            key = (source["system"], source["native_id"])
            if key in people:
                latest[key] = str(record.value["golden_id"])
        return latest

    def by_person(links: dict[tuple[str, str], str]) -> dict[str, set[str]]:
        grouped: dict[str, set[str]] = defaultdict(set)
        for source, golden in links.items():
            grouped[people[source]].add(golden)
        return grouped

    links = poll(crosswalk, lambda found: len(found) == len(people) and _one_each(by_person(found)))
    assert sorted(set(people) - set(links)) == [], "source customers without a crosswalk entry"
    grouped = by_person(links)
    assert {p: ids for p, ids in grouped.items() if len(ids) != 1} == {}, "a person split over golden ids"
    goldens = [next(iter(ids)) for ids in grouped.values()]
    assert len(set(goldens)) == len(goldens), "different people merged into one golden customer"


def _one_each(grouped: dict[str, set[str]]) -> bool:
    return all(len(ids) == 1 for ids in grouped.values())


def test_one_order_is_one_trace_from_the_webhook_to_the_erp(bus: RunningBus, demo: DemoRun) -> None:
    shopify = [e for e in demo.events if e.kind == "shopify_order"]
    assert shopify, "the fixed set has Shopify orders"
    event_id = shopify[0].event_id
    webhook_to_erp = {"gateway", "translator", "order-router", "egress", "connectors"}

    def trace() -> tuple[str | None, set[str]]:
        return find_trace(bus.stack.jaeger_query_url, event_id)

    trace_id, services = poll(trace, lambda t: webhook_to_erp <= t[1])
    assert trace_id is not None, f"Jaeger has no trace for the webhook with event id {event_id}"
    found = httpx.get(
        f"{bus.stack.jaeger_query_url}/api/traces",
        params={"service": "gateway", "tags": f'{{"esb.event_id":"{event_id}"}}', "lookback": "2h"},
        timeout=10,
    ).json()["data"]
    assert {t["traceID"] for t in found} == {trace_id}, "the order's webhook appears in more than one trace"
    assert webhook_to_erp <= services, f"the trace has spans from {sorted(services)} only"
    carried = [
        d for d in recorded_documents(bus.plan.target_url) if trace_id in (d["traceparent"] or "").split("-")
    ]
    assert carried, "no ERP document was sent with the order's trace context (traceparent)"


def test_every_process_is_still_up_after_the_run(bus: RunningBus, demo: DemoRun) -> None:
    down = {s.name: s.log_file for s in status(bus.layout) if s.pid is None}
    assert down == {}, f"processes that died during the run (see their logs): {down}"
