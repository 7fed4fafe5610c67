"""Warehouse shipments -> egress (join with the routed Shopify order) -> egress.shopify.fulfillments ->
delivery connector -> a fake Shopify that keeps fulfillment orders, on the real broker and registry.

What must hold: a 3PL's 945 that arrives *before* the order's routing decision waits and is sent when
the decision arrives; Shopify receives one fulfillment request in its 2024-04 shape (fulfillment
order line items found through the probe, tracking); a shipment Shopify itself reported is never sent
back; a shipment that does not fit the order is dead-lettered with the reason; the egress topic holds
exactly one document (exactly-once through the internal join topic).
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
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
from schemas.common.models import SourceRef
from schemas.fulfillment.models import ShipmentEvent, ShipmentLine
from schemas.loader import schema_text
from services.egress.keys import idempotency_key
from tests import egress_support as samples
from tests.infra import REGISTRY_TIMEOUT_S, StackEndpoints
from tests.integration.egress_envs import connector_env, egress_env, read_dlq, service_logs
from tests.integration.runtime.harness import ServiceProcess, read_all, running, wait_until
from tests.recording_server import Answer, Recorded, RecordingServer

pytestmark = pytest.mark.integration

PARTITIONS = 3
TOKEN = "shpat-integration-token"
PROBE = "/admin/api/2024-04/orders/450789469/fulfillment_orders.json"
LISTED = "/admin/api/2024-04/orders/450789469/fulfillments.json"


@pytest.fixture
def topics(kafka_admin: AdminClient, unique_name: Callable[[str], str]) -> Iterator[dict[str, str]]:
    base = unique_name("ship-it")
    names = {
        "routed": f"{base}.canonical.routed-orders.v1",
        "shipments": f"{base}.canonical.shipments.v1",
        "join": f"{base}.egress-translator.by-order.repartition",
        "egress": f"{base}.egress.shopify.fulfillments",
        "prefix": f"{base}.",
        "egress_service": f"egress-{base[-8:]}",
        "connector_service": f"delivery-{base[-8:]}",
    }
    created = [names[k] for k in ("routed", "shipments", "join", "egress")]
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


class FakeShopify:
    """Fulfillment orders of order 450789469 (one per line); a created fulfillment uses them up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.fulfillable = {1025578633: 2, 1025578634: 3}  # fulfillment order line item -> units left
        self.line_item = {1025578633: 466157049, 1025578634: 518995019}
        self.order_of = {1025578633: 1046000778, 1025578634: 1046000779}
        self.created: list[dict[str, Any]] = []  # fulfillments, as GET .../fulfillments.json lists them

    def __call__(self, request: Recorded) -> Answer:
        with self._lock:
            if request.headers.get("X-Shopify-Access-Token") != TOKEN:
                return Answer(401, b'{"errors":"[API] Invalid API key or access token"}')
            if request.method == "GET" and request.path == PROBE:
                return Answer(200, json.dumps({"fulfillment_orders": self._orders()}).encode())
            if request.method == "GET" and request.path == LISTED:
                return Answer(200, json.dumps({"fulfillments": self.created}).encode())
            if request.method == "POST" and request.path == "/admin/api/2024-04/fulfillments.json":
                body = json.loads(request.body)["fulfillment"]
                for group in body["line_items_by_fulfillment_order"]:
                    for item in group["fulfillment_order_line_items"]:
                        if self.fulfillable.get(item["id"], 0) < item["quantity"]:
                            return Answer(422, b'{"errors":["Invalid fulfillment order line item quantity"]}')
                        self.fulfillable[item["id"]] -= item["quantity"]
                number = body["tracking_info"]["number"]
                self.created.append({"id": 255858046, "status": "success", "tracking_number": number})
                return Answer(201, b'{"fulfillment":{"id":255858046,"status":"success"}}')
            return Answer(404, b'{"errors":"Not Found"}')

    def _orders(self) -> list[dict[str, Any]]:
        return [
            {
                "id": self.order_of[item],
                "order_id": 450789469,
                "status": "open" if left else "closed",
                "line_items": [
                    {
                        "id": item,
                        "fulfillment_order_id": self.order_of[item],
                        "line_item_id": self.line_item[item],
                        "quantity": {1025578633: 2, 1025578634: 3}[item],
                        "fulfillable_quantity": left,
                    }
                ],
            }
            for item, left in self.fulfillable.items()
        ]


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


def _shipments() -> tuple[ShipmentEvent, ShipmentEvent, ShipmentEvent]:
    good = samples.warehouse_shipment()
    mine = samples.shipment()
    source = SourceRef(system="shopify", account=samples.SHOP, entity="fulfillment", native_id="255858046")
    echo = mine.model_copy(update={"metadata": mine.metadata.model_copy(update={"source": source})})
    bad = samples.warehouse_shipment(
        native_id="SHP-7782",
        shipment_id=uuid.uuid5(uuid.NAMESPACE_URL, "https://tests.esb/shipment/SHP-7782"),
        metadata=good.metadata.model_copy(update={"event_id": uuid.uuid5(uuid.NAMESPACE_URL, "e/SHP-7782")}),
        lines=[ShipmentLine(order_line_id="1", sku="NOT-ON-ORDER", quantity=1)],
    )
    return good, echo, bad


def test_a_warehouse_shipment_reaches_the_shopify_order_with_its_tracking(
    stack: StackEndpoints, topics: dict[str, str], tmp_path: Path
) -> None:
    producer, encode = _producer(stack)
    good, echo, bad = _shipments()
    for shipment in (good, echo, bad):
        producer.produce(
            topics["shipments"], encode(topics["shipments"], shipment), key=str(shipment.shipment_id).encode()
        )
    assert producer.flush(30) == 0

    shopify = FakeShopify()
    with RecordingServer() as server:
        server.rule = shopify
        egress_settings = egress_env(
            stack,
            tmp_path / "egress-state",
            topics,
            EGRESS_ROUTED_ORDERS_TOPIC=topics["routed"],
            EGRESS_SHIPMENTS_TOPIC=topics["shipments"],
            EGRESS_SHIPMENT_JOIN_TOPIC=topics["join"],
            EGRESS_ORDER_TARGETS="[]",
            EGRESS_SHOPIFY=samples.SHOPIFY.model_dump_json(),
            EGRESS_WMS=samples.WMS.model_dump_json(),
        )
        account = {"base_url": server.url, "auth": "shopify", "token": TOKEN, "rate_per_second": 20}
        connector_settings = connector_env(
            stack, tmp_path / "connector-state", topics, {samples.SHOP: account}
        )
        egress = ServiceProcess("services.egress", egress_settings, tmp_path / "egress.log")
        connector = ServiceProcess("services.connectors", connector_settings, tmp_path / "connector.log")
        with running([egress, connector]):
            egress.start()
            connector.start()

            # Both warehouse shipments wait in the join (the echo never enters it): no decision yet.
            def notices() -> int:
                records = read_all(stack.bootstrap_servers, topics["join"], PARTITIONS)
                return sum(b'"kind":"shipment"' in (r.value() or b"") for r in records)

            assert wait_until(lambda: notices() >= 2, timeout=120), service_logs(tmp_path)
            assert server.requests == []

            route = samples.routed_order(fulfillment_order_id=samples.FULFILLMENT_ORDER_ID)
            producer.produce(
                topics["routed"], encode(topics["routed"], route), key=str(route.order_id).encode()
            )
            assert producer.flush(30) == 0

            assert wait_until(lambda: len(server.writes()) >= 1, timeout=120), service_logs(tmp_path)
            assert wait_until(lambda: len(read_dlq(stack, topics["egress_service"])) >= 1, timeout=60), (
                service_logs(tmp_path)
            )
            egress.stop()
            connector.stop()

    # Shopify got the warehouse's tracking on the right fulfillment order line items.
    [post] = server.writes()
    assert post.path == "/admin/api/2024-04/fulfillments.json"
    assert post.headers["Idempotency-Key"] == idempotency_key(
        "shopify.fulfillment", str(good.shipment_id), str(good.metadata.event_id)
    )
    assert json.loads(post.body) == {
        "fulfillment": {
            "line_items_by_fulfillment_order": [
                {
                    "fulfillment_order_id": 1046000778,
                    "fulfillment_order_line_items": [{"id": 1025578633, "quantity": 2}],
                },
                {
                    "fulfillment_order_id": 1046000779,
                    "fulfillment_order_line_items": [{"id": 1025578634, "quantity": 1}],
                },
            ],
            "notify_customer": True,
            "tracking_info": {"number": "1Z999AA10123456784", "company": "UPS"},
        }
    }
    assert [r.path for r in server.requests if r.method == "GET"] == [PROBE, LISTED]
    assert shopify.fulfillable == {1025578633: 0, 1025578634: 2}
    # Exactly one document: neither the echo nor the refused shipment, and the released one once.
    documents = read_all(stack.bootstrap_servers, topics["egress"], PARTITIONS)
    assert [d.key() for d in documents] == [str(good.shipment_id).encode()]
    # The shipment that does not fit the order is dead-lettered with the field and the reason.
    [letter] = read_dlq(stack, topics["egress_service"])
    headers = dict(letter.headers())
    assert headers["esb.dlq.error.message"].decode() == (
        "shopify.fulfillment: line_items: SKU 'NOT-ON-ORDER' is not on Shopify order 450789469"
    )
    assert headers["esb.dlq.source.topic"] == topics["join"].encode()
    assert TOKEN not in service_logs(tmp_path)
