"""Shipments -> Shopify fulfillments on the in-memory bus: the order link join, echo suppression, DLQ."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bus.testing import InMemoryBus
from schemas.common.models import SourceRef
from schemas.fulfillment.models import FulfillmentChange, ShipmentEvent, ShipmentLine
from schemas.ids import canonical_id
from services.egress import jsondoc
from services.egress.document import HEADERS
from services.egress.handler import build_service
from services.egress.keys import document_number, idempotency_key
from services.egress.shipments_join import PARKED_STORE
from tests import egress_support as samples

pytestmark = pytest.mark.unit

ROUTED = "canonical.routed-orders.v1"
ORDERS = "canonical.orders.v1"
SHIPMENTS = "canonical.shipments.v1"
JOIN = "egress-translator.by-order.repartition"
FULFILLMENTS = "egress.shopify.fulfillments"
DLQ = "dlq.egress-translator"


def _bus(routing: bool = True, **overrides: Any) -> InMemoryBus:
    bus = InMemoryBus()
    topic = ROUTED if routing else ""
    bus.deploy(build_service(samples.settings(routed_orders_topic=topic, **overrides)))
    return bus


def _route(bus: InMemoryBus, **changes: Any) -> None:
    route = samples.routed_order(fulfillment_order_id=samples.FULFILLMENT_ORDER_ID).model_copy(update=changes)
    bus.publish(ROUTED, bus.encode(ROUTED, route), str(route.order_id).encode())


def _ship(bus: InMemoryBus, shipment: ShipmentEvent) -> None:
    bus.publish(SHIPMENTS, bus.encode(SHIPMENTS, shipment), str(shipment.shipment_id).encode())


def _body(record: Any) -> dict[str, Any]:
    body: dict[str, Any] = jsondoc.loads(record.value)["fulfillment"]
    return body


def _dlq_reasons(bus: InMemoryBus) -> list[str]:
    return [dict(r.headers)["esb.dlq.error.message"].decode() for r in bus.topics[DLQ]]


def test_a_3pl_945_for_a_routed_shopify_order_becomes_a_fulfillment_with_tracking() -> None:
    bus = _bus()
    _route(bus)
    shipment = samples.warehouse_shipment()
    _ship(bus, shipment)
    [record] = bus.topics[FULFILLMENTS]
    headers = dict(record.headers)
    assert record.key == str(shipment.shipment_id).encode()
    assert headers[HEADERS["account"]] == samples.SHOP.encode()
    assert headers[HEADERS["path"]] == b"/admin/api/2024-04/fulfillments.json"
    assert headers[HEADERS["probe"]] == b"/admin/api/2024-04/orders/450789469/fulfillment_orders.json"
    assert headers[HEADERS["idempotency_key"]] == (
        idempotency_key(
            "shopify.fulfillment", str(shipment.shipment_id), str(shipment.metadata.event_id)
        ).encode()
    )
    body = _body(record)
    # The 3PL's LX line numbers mean nothing to Shopify: lines find their order line by SKU.
    assert body["line_items"] == [{"id": 466157049, "quantity": 2}, {"id": 518995019, "quantity": 1}]
    assert body["tracking_info"] == {"number": "1Z999AA10123456784", "company": "UPS"}
    assert bus.topics[DLQ] == []


def test_an_856_keyed_by_the_purchase_order_number_finds_the_order_too() -> None:
    bus = _bus()
    _route(bus)
    _ship(bus, samples.warehouse_shipment(reference="450789469"))  # PRF01 = our 940's W05-03
    assert len(bus.topics[FULFILLMENTS]) == 1


def test_a_shipment_before_its_link_waits_and_is_sent_when_the_link_arrives() -> None:
    bus = _bus()
    shipment = samples.warehouse_shipment()
    _ship(bus, shipment)
    _ship(bus, shipment)  # a re-delivery while waiting is parked once
    assert bus.topics[FULFILLMENTS] == []
    key = str(shipment.order_id)
    assert len(bus.state("egress-translator", PARKED_STORE).get(key)) == 1
    _route(bus)
    [record] = bus.topics[FULFILLMENTS]
    assert _body(record)["line_items"][0] == {"id": 466157049, "quantity": 2}
    assert bus.state("egress-translator", PARKED_STORE).get(key) is None


def _notices(bus: InMemoryBus) -> int:
    return sum(b'"kind":"shipment"' in (r.value or b"") for r in bus.topics[JOIN])


def test_shopify_own_shipments_are_never_echoed_back() -> None:
    bus = _bus()
    _route(bus)
    shipment = samples.shipment()
    source = SourceRef(system="Shopify", account=samples.SHOP, entity="fulfillment", native_id="1")
    _ship(
        bus, shipment.model_copy(update={"metadata": shipment.metadata.model_copy(update={"source": source})})
    )
    assert bus.topics[FULFILLMENTS] == []
    assert _notices(bus) == 0  # never even enters the join
    _ship(bus, shipment)  # the same shipment reported by the warehouse does go
    assert len(bus.topics[FULFILLMENTS]) == 1


@pytest.mark.parametrize("changes", [{"channel": "woocommerce"}, {"account": "other.myshopify.com"}])
def test_orders_of_other_channels_or_shops_get_no_fulfillment(changes: dict[str, Any]) -> None:
    bus = _bus()
    _route(bus, **changes)
    assert bus.topics[ROUTED]
    assert bus.topics[JOIN] == []
    _ship(bus, samples.warehouse_shipment())
    assert bus.topics[FULFILLMENTS] == []
    assert bus.topics[DLQ] == []  # it waits (TTL shipment_wait), then expires: not a Shopify shipment
    assert _notices(bus) == 1


def test_shipments_wait_at_most_shipment_wait() -> None:
    service = build_service(samples.settings(shipment_wait=timedelta(days=3)))
    assert {spec.name: spec.ttl for spec in service.stores}[PARKED_STORE] == timedelta(days=3)
    assert JOIN in {spec.topic for spec in service.inputs}
    assert SHIPMENTS in {spec.topic for spec in service.inputs}
    off = build_service(samples.settings(shopify=None))
    assert JOIN not in {spec.topic for spec in off.inputs} | {spec.topic for spec in off.outputs}


def test_without_routing_the_order_itself_links_its_shipments() -> None:
    bus = _bus(routing=False, order_targets=[])
    order = samples.order_event()
    bus.publish(ORDERS, bus.encode(ORDERS, order), str(order.order.order_id).encode())
    _ship(bus, samples.shipment())  # keyed by the Shopify order's canonical id
    _ship(bus, samples.warehouse_shipment(reference="450789469"))  # an 856 by purchase order number
    assert [_body(r)["line_items"][0]["id"] for r in bus.topics[FULFILLMENTS]] == [466157049, 466157049]


def test_a_replayed_shipment_yields_the_identical_document() -> None:
    bus = _bus()
    _route(bus)
    _ship(bus, samples.warehouse_shipment())
    _ship(bus, samples.warehouse_shipment())
    first, second = bus.topics[FULFILLMENTS]
    assert (first.key, first.value, first.headers) == (second.key, second.value, second.headers)


def test_an_older_routing_revision_does_not_replace_the_link() -> None:
    bus = _bus()
    _route(bus, revision=3)
    lines = samples.routed_order().allocations
    _route(bus, revision=2, allocations=[lines[0].model_copy(update={"sku": "RENAMED"})])
    _ship(bus, samples.warehouse_shipment())
    assert len(bus.topics[FULFILLMENTS]) == 1


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"lines": [ShipmentLine(order_line_id="1", sku="NOT-ON-ORDER", quantity=1)]},
            "shopify.fulfillment: line_items: SKU 'NOT-ON-ORDER' is not on Shopify order 450789469",
        ),
        (
            {"lines": [ShipmentLine(order_line_id="1", sku="IPOD2008GREEN", quantity=5)]},
            "shopify.fulfillment: line_items: ships 5 of line 466157049 (SKU 'IPOD2008GREEN') but Shopify"
            " order 450789469 has 2",
        ),
        (
            {"change": FulfillmentChange.CANCELLED},
            "shopify.fulfillment: change: CANCELLED needs Shopify's fulfillment id",
        ),
    ],
)
def test_shipments_that_do_not_fit_the_order_are_dead_lettered_with_the_reason(
    changes: dict[str, Any], reason: str
) -> None:
    bus = _bus()
    _route(bus)
    _ship(bus, samples.warehouse_shipment(**changes))
    assert bus.topics[FULFILLMENTS] == []
    [message] = _dlq_reasons(bus)
    assert message.startswith(reason)
    # the dead letter is the join record: replaying it re-runs the join with the shipment
    [letter] = bus.topics[DLQ]
    assert dict(letter.headers)["esb.dlq.source.topic"] == JOIN.encode()


def test_the_3pl_inbound_account_names_the_ids_of_its_shipments() -> None:
    bus = _bus(wms=samples.WMS.model_copy(update={"inbound_account": "ontario-as2"}))
    _route(bus)
    ref = document_number(samples.FULFILLMENT_ORDER_ID, 22)
    _ship(bus, samples.warehouse_shipment())  # the 3PL's ids under its egress account: not ours
    assert bus.topics[FULFILLMENTS] == []
    _ship(bus, samples.warehouse_shipment(order_id=canonical_id("edi", "ontario-as2", "order", ref)))
    assert len(bus.topics[FULFILLMENTS]) == 1
