"""The order router on the real broker, with the inventory projector running as a process.

1,000 orders for one scarce SKU stocked at two locations arrive at once at two router instances.
Stock reaches the router the production way: stock movements -> projector -> inventory levels.
No location may be promised more than it holds, and every order must get a decision.

Backorders: orders for a SKU with no stock are backordered; a receipt then fills them first placed
first served, each with a new routed-order revision, never beyond the receipt.
"""

from __future__ import annotations

import contextlib
import json
import random
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from schemas.common.models import EventMetadata, SourceRef
from schemas.inventory.models import (
    InventoryAlert,
    InventoryLevel,
    MovementKind,
    ReservationEvent,
    ReservationKind,
    StockMovementEvent,
)
from schemas.loader import schema_text
from schemas.orders.models import RoutedOrderEvent, RoutingStatus
from tests.infra import REGISTRY_TIMEOUT_S, StackEndpoints
from tests.integration.inventory_feed import decoder
from tests.integration.runtime.harness import (
    ServiceProcess,
    committed_total,
    read_all,
    running,
    service_env,
    wait_until,
)
from tests.order_router_support import line, order_event

pytestmark = pytest.mark.integration

PARTITIONS = 4
ORDERS = 1000
SKU = "SCARCE-1"
STOCK = {"WH-A": 300, "WH-B": 200}
RULES = f"""
version: "it-1"
holds: {{financial_statuses: [PENDING]}}
rules:
  - id: default
    default: true
    erp_entity: US-SUB
    locations: [{", ".join(STOCK)}]
"""

Topics = dict[str, str]


@pytest.fixture
def topics(create_topic: Callable[..., str]) -> Topics:
    compact = {"cleanup.policy": "compact"}
    return {
        "movements": create_topic("mv", PARTITIONS),
        "reservations": create_topic("rs", PARTITIONS),
        "reservations_by_sku": create_topic("rsbysku", PARTITIONS),
        "levels": create_topic("levels", PARTITIONS, compact),
        "channels": create_topic("chan", PARTITIONS, compact),
        "alerts": create_topic("alerts", PARTITIONS),
        "orders": create_topic("orders", PARTITIONS),
        "fulfillment": create_topic("fo", PARTITIONS),
        "routed": create_topic("routed", PARTITIONS),
        "by_sku": create_topic("orbysku", PARTITIONS),
        "by_order": create_topic("orbyorder", PARTITIONS),
    }


@pytest.fixture
def names(unique_name: Callable[[str], str], kafka_admin: AdminClient) -> Iterator[dict[str, str]]:
    chosen = {"router": unique_name("or"), "projector": unique_name("ip")}
    yield chosen
    stores = {
        "router": ["orders", "skus", "holds", "requests"],
        "projector": ["positions", "movement-ids", "reservations", "skus"],
    }
    doomed = [f"dlq.{chosen[k]}" for k in chosen] + [
        f"{chosen[k]}.{store}.changelog" for k, names in stores.items() for store in names
    ]
    existing = set(kafka_admin.list_topics(timeout=30).topics)
    doomed = [t for t in doomed if t in existing]
    if doomed:
        for future in kafka_admin.delete_topics(doomed).values():
            with contextlib.suppress(Exception):
                future.result(timeout=30)


def _producer(stack: StackEndpoints) -> Producer:
    # An upstream producer on the bus: the Java-compatible partitioner, like every runtime producer
    # (the router's own answers, keyed by order id, must land on the order's partition).
    return Producer(
        {
            "bootstrap.servers": stack.bootstrap_servers,
            "linger.ms": 10,
            "enable.idempotence": True,
            "partitioner": "murmur2_random",
        }
    )


def _serializer(stack: StackEndpoints, model: Any) -> AvroSerializer:
    registry = SchemaRegistryClient({"url": stack.schema_registry_url, "timeout": REGISTRY_TIMEOUT_S})
    return AvroSerializer(registry, schema_text(model.avro_name()), lambda value, _ctx: value.to_avro())


def _receive_stock(
    stack: StackEndpoints, topic: str, sku: str = SKU, stock: dict[str, int] | None = None
) -> None:
    serialize, producer = _serializer(stack, StockMovementEvent), _producer(stack)
    now = datetime.now(UTC)
    for location, units in (STOCK if stock is None else stock).items():
        movement = StockMovementEvent(
            metadata=EventMetadata(
                event_id=uuid.uuid4(),
                event_type="stock.received",
                occurred_at=now,
                ingested_at=now,
                source=SourceRef(system="wms", account="it", entity="receipt", native_id=location),
            ),
            movement_id=uuid.uuid4(),
            kind=MovementKind.RECEIPT,
            sku=sku,
            location=location,
            quantity=units,
        )
        value = serialize(movement, SerializationContext(topic, MessageField.VALUE))
        producer.produce(topic, value, key=sku.encode())  # the projector's inputs are keyed by SKU
    assert producer.flush(30) == 0


def _send_orders(
    stack: StackEndpoints, topic: str, sku: str = SKU, count: int = ORDERS, prefix: str = "it"
) -> dict[str, int]:
    """``count`` orders of 1-2 units; order ``i`` is placed ``i`` seconds after the first."""
    serialize, producer = _serializer(stack, type(order_event("x", [line("1", sku, 1)]))), _producer(stack)
    rng = random.Random(11)
    ordered: dict[str, int] = {}
    for index in range(count):
        quantity = rng.randint(1, 2)
        ordered[f"{prefix}-{index}"] = quantity
        event = order_event(f"{prefix}-{index}", [line("1", sku, quantity)], placed_s=index)
        value = serialize(event, SerializationContext(topic, MessageField.VALUE))
        while True:
            try:
                producer.produce(topic, value, key=str(event.order.order_id).encode())
                break
            except BufferError:
                producer.poll(0.05)
    assert producer.flush(30) == 0
    return ordered


def _router_saw_the_stock(stack: StackEndpoints, router: str) -> bool:
    """The SKU stage's committed store holds the projector's level of every stocked location."""
    topic = f"{router}.skus.changelog"
    if (
        topic
        not in AdminClient({"bootstrap.servers": stack.bootstrap_servers}).list_topics(timeout=10).topics
    ):
        return False
    seen: dict[str, Any] = {}
    for message in read_all(stack.bootstrap_servers, topic, PARTITIONS, timeout=60):
        if message.key() == SKU.encode() and message.value():
            seen = json.loads(message.value()[1:])["lv"]
    return {location: level["oh"] for location, level in seen.items()} == STOCK


def _decode_all(stack: StackEndpoints, topic: str, model: Any) -> list[Any]:
    decode = decoder(stack.schema_registry_url, model)
    return [
        decode(m.value(), topic) for m in read_all(stack.bootstrap_servers, topic, PARTITIONS, timeout=120)
    ]


def _reserved(stack: StackEndpoints, topic: str) -> dict[str, int]:
    """Units held per location as the projector folds them: the newest RESERVE of each reservation."""
    newest: dict[uuid.UUID, tuple[str, int]] = {}
    for reservation in _decode_all(stack, topic, ReservationEvent):
        assert reservation.kind is ReservationKind.RESERVE  # nothing was cancelled or reduced
        newest[reservation.reservation_id] = (reservation.location, reservation.quantity)
    reserved: dict[str, int] = defaultdict(int)
    for location, units in newest.values():
        reserved[location] += units
    return dict(reserved)


def _final_levels(stack: StackEndpoints, topic: str) -> dict[str, tuple[int, int]]:
    """(on_hand, reserved) of the newest level per location (one position per location, in order)."""
    final: dict[str, tuple[int, int]] = {}
    for level in _decode_all(stack, topic, InventoryLevel):
        final[level.location] = (level.on_hand, level.reserved)
    return final


def _decided(stack: StackEndpoints, topic: str) -> dict[str, RoutedOrderEvent]:
    latest: dict[str, RoutedOrderEvent] = {}
    for routed in _decode_all(stack, topic, RoutedOrderEvent):
        known = latest.get(str(routed.order_id))
        if known is None or routed.revision > known.revision:
            latest[str(routed.order_id)] = routed
    return latest


def _deploy(
    stack: StackEndpoints, topics: Topics, names: dict[str, str], tmp_path: Path
) -> tuple[ServiceProcess, list[ServiceProcess]]:
    """The projector and two router instances (not started)."""
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(RULES)
    projector_env = service_env(
        stack,
        tmp_path / "state",
        ESB_INSTANCE_ID="p0",
        INVENTORY_PROJECTOR_SERVICE_NAME=names["projector"],
        INVENTORY_PROJECTOR_MOVEMENTS_TOPIC=topics["movements"],
        INVENTORY_PROJECTOR_RESERVATIONS_TOPIC=topics["reservations_by_sku"],
        INVENTORY_PROJECTOR_LEVELS_TOPIC=topics["levels"],
        INVENTORY_PROJECTOR_CHANNEL_TOPIC=topics["channels"],
        INVENTORY_PROJECTOR_ALERTS_TOPIC=topics["alerts"],
    )
    router_common = {
        "ORDER_ROUTER_SERVICE_NAME": names["router"],
        "ORDER_ROUTER_ORDERS_TOPIC": topics["orders"],
        "ORDER_ROUTER_LEVELS_TOPIC": topics["levels"],
        "ORDER_ROUTER_RESERVATIONS_TOPIC": topics["reservations"],
        "ORDER_ROUTER_RESERVATIONS_BY_SKU_TOPIC": topics["reservations_by_sku"],
        "ORDER_ROUTER_FULFILLMENT_TOPIC": topics["fulfillment"],
        "ORDER_ROUTER_ROUTED_TOPIC": topics["routed"],
        "ORDER_ROUTER_BY_SKU_TOPIC": topics["by_sku"],
        "ORDER_ROUTER_BY_ORDER_TOPIC": topics["by_order"],
        "ORDER_ROUTER_RULES_PATH": str(rules_file),
    }
    projector = ServiceProcess("services.inventory_projector", projector_env, tmp_path / "projector.log")
    routers = [
        ServiceProcess(
            "services.order_router",
            service_env(stack, tmp_path / "state", ESB_INSTANCE_ID=f"r{i}", **router_common),
            tmp_path / f"router-{i}.log",
        )
        for i in range(2)
    ]
    return projector, routers


def test_a_thousand_concurrent_orders_for_a_scarce_sku_never_oversell(
    stack: StackEndpoints, topics: Topics, names: dict[str, str], tmp_path: Path
) -> None:
    projector, routers = _deploy(stack, topics, names, tmp_path)
    with running([projector, *routers]):
        projector.start()
        _receive_stock(stack, topics["movements"])
        for router in routers:
            router.start()
        # The router must have seen the stock before the rush (otherwise it rightly backorders all).
        assert wait_until(lambda: _router_saw_the_stock(stack, names["router"]), timeout=240, interval=2.0), (
            "the router did not take in the inventory levels"
        )
        ordered = _send_orders(stack, topics["orders"])

        def all_decided() -> bool:
            assert all(r.alive for r in routers), "a router died on its own"
            assert projector.alive, "the projector died on its own"
            done = committed_total(stack.bootstrap_servers, names["router"], topics["orders"], PARTITIONS)
            return done >= ORDERS and len(_decided(stack, topics["routed"])) == ORDERS

        assert wait_until(all_decided, timeout=420, interval=3.0), "not every order got a decision"
        reserved = _reserved(stack, topics["reservations"])
        assert wait_until(
            lambda: (
                _final_levels(stack, topics["levels"])
                == {loc: (STOCK[loc], reserved.get(loc, 0)) for loc in STOCK}
            ),
            timeout=240,
            interval=2.0,
        ), "the projector did not fold the reservations"
        for process in [*routers, projector]:
            assert process.stop() == 0

    decisions = _decided(stack, topics["routed"])
    assert len(decisions) == ORDERS
    routed_units: dict[str, int] = defaultdict(int)
    for routed in decisions.values():
        assert routed.status in (RoutingStatus.ROUTED, RoutingStatus.BACKORDERED)
        assert sum(a.quantity for a in routed.allocations) == ordered[routed.order_native_id or ""]
        for allocation in routed.allocations:
            if allocation.location is not None:
                routed_units[allocation.location] += allocation.quantity

    for location, units in reserved.items():
        assert units <= STOCK[location], f"oversold {location}: {units} > {STOCK[location]}"
    assert dict(reserved) == dict(routed_units)
    assert sum(reserved.values()) == min(
        sum(ordered.values()), sum(STOCK.values())
    )  # scarce: everything was promised

    for level in _decode_all(stack, topics["levels"], InventoryLevel):
        assert level.available >= 0
    alerts = _decode_all(stack, topics["alerts"], InventoryAlert)
    assert [a for a in alerts if a.kind.value == "OVERSELL"] == []
    assert read_all(stack.bootstrap_servers, f"dlq.{names['router']}", 1, timeout=30) == []


def test_backorders_are_filled_first_placed_first_when_stock_arrives(
    stack: StackEndpoints, topics: Topics, names: dict[str, str], tmp_path: Path
) -> None:
    sku, count, receipt = "RESTOCK-1", 40, {"WH-B": 25}
    projector, routers = _deploy(stack, topics, names, tmp_path)
    with running([projector, *routers]):
        projector.start()
        for router in routers:
            router.start()
        ordered = _send_orders(stack, topics["orders"], sku=sku, count=count, prefix="bo")

        def latest() -> dict[str, RoutedOrderEvent]:
            assert all(r.alive for r in routers), "a router died on its own"
            assert projector.alive, "the projector died on its own"
            return _decided(stack, topics["routed"])

        # no stock anywhere: every order is backordered whole
        assert wait_until(lambda: len(latest()) == count, timeout=420, interval=3.0), (
            "not every order decided"
        )
        assert {r.status for r in latest().values()} == {RoutingStatus.BACKORDERED}
        _receive_stock(stack, topics["movements"], sku=sku, stock=receipt)
        assert wait_until(lambda: _filled(latest()) == 25, timeout=300, interval=3.0), "backorders not filled"
        reserved = _reserved(stack, topics["reservations"])
        assert wait_until(
            lambda: _final_levels(stack, topics["levels"]) == {"WH-B": (25, reserved.get("WH-B", 0))},
            timeout=240,
            interval=2.0,
        ), "the projector did not fold the reservations"
        for process in [*routers, projector]:
            assert process.stop() == 0

    decisions = _decided(stack, topics["routed"])
    assert reserved == {"WH-B": 25}  # all of the receipt, never more
    # first placed, first served: a prefix of the orders by placement takes the 25 units
    left = 25
    for index in range(count):
        routed = next(r for r in decisions.values() if r.order_native_id == f"bo-{index}")
        want = ordered[f"bo-{index}"]
        got = sum(a.quantity for a in routed.allocations if a.location == "WH-B")
        assert got == min(want, left), f"bo-{index}: {got} of {want} with {left} left"
        assert sum(a.quantity for a in routed.allocations) == want
        assert routed.revision == (2 if got else 1)
        assert routed.status is (RoutingStatus.ROUTED if got == want else RoutingStatus.BACKORDERED)
        left -= got
    alerts = _decode_all(stack, topics["alerts"], InventoryAlert)
    assert [a for a in alerts if a.kind.value == "OVERSELL"] == []
    assert read_all(stack.bootstrap_servers, f"dlq.{names['router']}", 1, timeout=30) == []


def _filled(latest: dict[str, RoutedOrderEvent]) -> int:
    return sum(a.quantity for r in latest.values() for a in r.allocations if a.location is not None)
