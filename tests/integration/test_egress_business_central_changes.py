"""Order versions -> egress -> egress.business-central.sales-orders -> delivery connector -> a fake
Business Central that enforces etags, on the real broker and registry.

What must hold: each order's versions reach Business Central in order (the create before its
changes), a replayed version changes nothing, a cancellation deletes the order, and a cancellation
Business Central's state forbids (a shipped line) is dead-lettered with the reason while the order
stays as it was.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from schemas.base import AvroRecord
from schemas.common.models import Address
from schemas.loader import schema_text
from schemas.orders.models import OrderChange, OrderEvent
from services.egress.keys import document_number
from tests import egress_support as samples
from tests.connector_bc_fake import FakeBusinessCentral
from tests.infra import REGISTRY_TIMEOUT_S, StackEndpoints
from tests.integration.egress_envs import connector_env, egress_env, read_dlq, service_logs
from tests.integration.runtime.harness import ServiceProcess, running, wait_until

pytestmark = pytest.mark.integration

PARTITIONS = 3
TOKEN = "bc-integration-token"
NEW_SHIP_TO = Address(
    name="Bob Norman",
    street_lines=["Elm Street 5"],
    city="Lexington",
    region_code="US-KY",
    postal_code="40507",
    country_code="US",
)


@pytest.fixture
def topics(kafka_admin: AdminClient, unique_name: Callable[[str], str]) -> Iterator[dict[str, str]]:
    base = unique_name("bc-changes")
    names = {
        "orders": f"{base}.canonical.orders.v1",
        "egress": f"{base}.egress.business-central.sales-orders",
        "prefix": f"{base}.",
        "egress_service": f"egress-{base[-8:]}",
        "connector_service": f"delivery-{base[-8:]}",
    }
    created = [names["orders"], names["egress"]]
    futures = kafka_admin.create_topics(
        [NewTopic(topic, num_partitions=PARTITIONS, replication_factor=-1) for topic in created]
    )
    for future in futures.values():
        future.result(timeout=30)
    yield names
    service = names["egress_service"]
    runtime_topics = [f"dlq.{service}", f"dlq.{names['connector_service']}"] + [
        f"{service}.{store}.changelog"
        for store in ("x12-control", "orders", "shipment-links", "shipment-parked")
    ]
    for future in kafka_admin.delete_topics(created + runtime_topics).values():
        with contextlib.suppress(KafkaException):
            future.result(timeout=30)


def _producer(stack: StackEndpoints) -> tuple[Producer, Callable[[str, AvroRecord], bytes]]:
    registry = SchemaRegistryClient({"url": stack.schema_registry_url, "timeout": REGISTRY_TIMEOUT_S})
    serializers: dict[str, AvroSerializer] = {}

    def encode(topic: str, value: AvroRecord) -> bytes:
        if topic not in serializers:
            text = schema_text(type(value).avro_name())
            serializers[topic] = AvroSerializer(registry, text, lambda v, _ctx: v.to_avro())
        data = serializers[topic](value, SerializationContext(topic, MessageField.VALUE))
        assert data is not None
        return data

    return Producer({"bootstrap.servers": stack.bootstrap_servers, "enable.idempotence": True}), encode


def _reference(event: OrderEvent) -> str:
    return document_number(event.order.order_id, 35)


def test_order_versions_reach_business_central_in_order_and_once(
    stack: StackEndpoints, topics: dict[str, str], tmp_path: Path
) -> None:
    producer, encode = _producer(stack)

    def publish(*events: OrderEvent) -> None:
        for event in events:
            key = str(event.order.order_id).encode()
            producer.produce(topics["orders"], encode(topics["orders"], event), key=key)
        assert producer.flush(30) == 0

    # A: created, changed (quantity, address), the same change replayed, then a line removed.
    a_placed = samples.order_event()
    a_v2 = samples.order_version(
        OrderChange.UPDATED, 2, {"466157049": 5, "518995019": 3}, shipping_address=NEW_SHIP_TO
    )
    a_v3 = samples.order_version(OrderChange.UPDATED, 3, {"466157049": 5}, shipping_address=NEW_SHIP_TO)
    # B: created and cancelled straight away. C: created, shipped in part, then cancelled.
    b_placed = samples.order_event(name="450789470")
    b_cancel = samples.order_version(OrderChange.CANCELLED, 2, name="450789470")
    c_placed = samples.order_event(name="450789471")
    c_cancel = samples.order_version(OrderChange.CANCELLED, 2, name="450789471")
    # D: only a later version reaches the bus (the storefront's create webhook is late or lost).
    d_v2 = samples.order_version(OrderChange.UPDATED, 2, {"466157049": 1, "518995019": 2}, name="450789472")
    publish(a_placed, a_v2, a_v2, a_v3, b_placed, b_cancel, c_placed, d_v2)

    fake = FakeBusinessCentral()
    with fake.serve() as url:
        egress_settings = egress_env(
            stack,
            tmp_path / "egress-state",
            topics,
            EGRESS_ORDERS_TOPIC=topics["orders"],
            EGRESS_ORDER_TARGETS='["business-central"]',
            EGRESS_BUSINESS_CENTRAL=samples.BUSINESS_CENTRAL.model_dump_json(),
        )
        account = {"base_url": url, "auth": "bearer", "token": TOKEN, "rate_per_second": 50, "burst": 50}
        connector_settings = connector_env(
            stack, tmp_path / "connector-state", topics, {samples.BUSINESS_CENTRAL.account: account}
        )
        egress = ServiceProcess("services.egress", egress_settings, tmp_path / "egress.log")
        connector = ServiceProcess("services.connectors", connector_settings, tmp_path / "connector.log")
        with running([egress, connector]):
            egress.start()
            connector.start()

            def settled() -> bool:
                a = fake.order_by_reference(_reference(a_placed))
                return (
                    a is not None
                    and len(a["salesOrderLines"]) == 1
                    and fake.order_by_reference(_reference(b_placed)) is None
                    and any(c.method == "DELETE" and c.path.count("(") == 2 for c in fake.writes())
                    and fake.order_by_reference(_reference(c_placed)) is not None
                    and fake.order_by_reference(_reference(d_v2)) is not None
                )

            assert wait_until(settled, timeout=120), service_logs(tmp_path)
            c_order = fake.order_by_reference(_reference(c_placed))
            assert c_order is not None
            c_order["salesOrderLines"][0]["shippedQuantity"] = 1  # the warehouse shipped one unit
            publish(c_cancel)
            assert wait_until(lambda: len(read_dlq(stack, topics["connector_service"])) >= 1, timeout=120), (
                service_logs(tmp_path)
            )
            egress.stop()
            connector.stop()

    # A: the create, then v2 (header + one line), nothing for the replayed v2, then v3 (one DELETE).
    a = fake.order_by_reference(_reference(a_placed))
    assert a is not None
    a_id = a["id"]

    def of_a(call: Any) -> bool:
        created = call.method == "POST" and (call.body or {}).get("externalDocumentNumber") == _reference(
            a_placed
        )
        return created or a_id in call.path

    a_writes = [
        (c.method, c.path.split("/salesOrders", 1)[1].replace(a_id, "A")) for c in fake.writes() if of_a(c)
    ]
    assert [method for method, _ in a_writes] == ["POST", "PATCH", "PATCH", "DELETE"], a_writes
    assert a_writes[0][1] == ""  # the deep insert
    assert a_writes[1][1] == "(A)"  # v2: the header (ship-to) ...
    assert a_writes[2][1].startswith("(A)/salesOrderLines(")  # ... and the quantity; the replay: nothing
    assert a_writes[3][1].startswith("(A)/salesOrderLines(")  # v3: the removed line
    assert {line["lineObjectNumber"]: line["quantity"] for line in a["salesOrderLines"]} == {"1996-S": 5}
    assert a["shipToCity"] == "Lexington"
    assert all(c.if_match for c in fake.writes() if c.method in ("PATCH", "DELETE"))
    d = fake.order_by_reference(_reference(d_v2))
    assert d is not None
    assert {line["lineObjectNumber"]: line["quantity"] for line in d["salesOrderLines"]} == {
        "1996-S": 1,
        "CABLE-USB-C": 2,
    }
    # B: deleted. C: still there, and the connector's DLQ says why.
    assert fake.order_by_reference(_reference(b_placed)) is None
    assert fake.order_by_reference(_reference(c_placed)) is not None
    [letter] = read_dlq(stack, topics["connector_service"])
    message = dict(letter.headers())["esb.dlq.error.message"].decode()
    assert message.startswith(f"business-central.salesOrderChange {_reference(c_placed)} rejected")
    assert "cannot delete an order with shipped lines" in message
    assert TOKEN not in service_logs(tmp_path)
