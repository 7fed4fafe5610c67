"""The egress service on the in-memory bus: routing to targets, headers, replay stability, DLQ."""

from __future__ import annotations

import pytest

from bus.testing import InMemoryBus
from schemas.common.models import SourceRef
from schemas.orders.models import OrderChange
from services.connectors.request import HEADERS as CONNECTOR_HEADERS
from services.egress import jsondoc
from services.egress.document import HEADERS
from services.egress.handler import build_service, egress_topics
from services.egress.settings import ErpEntity
from tests import egress_support as samples

pytestmark = pytest.mark.unit


def _bus() -> InMemoryBus:
    bus = InMemoryBus()
    bus.deploy(build_service(samples.settings()))
    return bus


def _headers(record: object) -> dict[str, bytes]:
    return dict(record.headers)  # type: ignore[attr-defined]


def test_the_header_contract_is_the_same_on_both_sides() -> None:
    assert HEADERS == CONNECTOR_HEADERS


def test_an_order_goes_to_every_configured_erp_with_its_keys() -> None:
    bus = _bus()
    event = samples.order_event()
    bus.publish(
        "canonical.orders.v1", bus.encode("canonical.orders.v1", event), str(event.order.order_id).encode()
    )
    for topic in (
        "egress.netsuite.sales-orders",
        "egress.business-central.sales-orders",
        "egress.sap.orders",
    ):
        [record] = bus.topics[topic]
        headers = _headers(record)
        assert record.key == str(event.order.order_id).encode()
        assert headers[HEADERS["idempotency_key"]]
        assert headers[HEADERS["account"]]
    assert _headers(bus.topics["egress.sap.orders"][0])[HEADERS["content_type"]] == b"application/xml"


def test_a_replayed_event_yields_identical_documents() -> None:
    bus = _bus()
    event = samples.fulfillment_order()
    for _ in range(2):
        bus.publish(
            "canonical.fulfillment-orders.v1", bus.encode("canonical.fulfillment-orders.v1", event), b"k"
        )
    first, second = bus.topics["egress.wms.shipping-orders"]
    assert first.value == second.value  # same ISA13/GS06 control number from the store
    assert _headers(first) == _headers(second)
    other = samples.fulfillment_order().model_copy(
        update={"metadata": event.metadata.model_copy(update={"event_id": event.order_id})}
    )
    bus.publish("canonical.fulfillment-orders.v1", bus.encode("canonical.fulfillment-orders.v1", other), b"k")
    third = bus.topics["egress.wms.shipping-orders"][2]
    assert third.value != first.value  # a new version gets the next control number
    assert b"*000000200*" in third.value
    assert b"*000000100*" in first.value


def test_events_from_a_target_are_not_echoed_back_to_it() -> None:
    bus = _bus()
    event = samples.order_event()
    from_netsuite = event.model_copy(
        update={
            "metadata": event.metadata.model_copy(
                update={
                    "source": SourceRef(system="netsuite", account="1234567", entity="invoice", native_id="1")
                }
            )
        }
    )
    bus.publish("canonical.orders.v1", bus.encode("canonical.orders.v1", from_netsuite), b"k")
    assert bus.topics["egress.netsuite.sales-orders"] == []
    assert len(bus.topics["egress.sap.orders"]) == 1


def test_missing_master_data_is_dead_lettered_with_the_field() -> None:
    bus = InMemoryBus()
    cfg = samples.NETSUITE.model_copy(update={"customer_ids": {}})
    bus.deploy(build_service(samples.settings(netsuite=cfg, order_targets=["netsuite"])))
    event = samples.order_event()
    bus.publish("canonical.orders.v1", bus.encode("canonical.orders.v1", event), b"k")
    [letter] = bus.topics["dlq.egress-translator"]
    message = _headers(letter)["esb.dlq.error.message"].decode()
    assert "netsuite.salesOrder: entity: no customer configured for channel 'shopify'" in message


def test_egress_topics_follow_the_configuration() -> None:
    topics = egress_topics(samples.settings(topic_prefix="t."))
    assert "t.egress.netsuite.inventory-adjustments" in topics
    assert "t.egress.wms.shipping-orders" in topics
    assert (
        egress_topics(
            samples.settings(netsuite=None, business_central=None, sap=None, wms=None, shopify=None)
        )
        == []
    )


def _routed_bus() -> InMemoryBus:
    bus = InMemoryBus()
    entities = {"US01": ErpEntity(target="netsuite", netsuite_subsidiary_id="3")}
    bus.deploy(
        build_service(
            samples.settings(routed_orders_topic="canonical.routed-orders.v1", erp_entities=entities)
        )
    )
    return bus


def _publish(bus: InMemoryBus, topic: str, value: object) -> None:
    bus.publish(topic, bus.encode(topic, value), b"450789469")


def test_a_routed_order_goes_to_the_decided_entity_with_line_locations() -> None:
    bus = _routed_bus()
    _publish(bus, "canonical.orders.v1", samples.order_event())
    assert bus.topics["egress.netsuite.sales-orders"] == []  # waits for the router's decision
    _publish(bus, "canonical.routed-orders.v1", samples.routed_order(revision=1))
    [record] = bus.topics["egress.netsuite.sales-orders"]
    body = jsondoc.loads(record.value)
    assert body["subsidiary"] == {"id": "3"}
    assert body["item"]["items"][0]["inventoryLocation"] == {"id": "2"}
    assert "inventoryLocation" not in body["item"]["items"][1]  # backordered: no location yet
    assert bus.topics["egress.sap.orders"] == []  # the entity lives in NetSuite only


def test_stale_and_held_decisions_send_nothing_and_changes_resend() -> None:
    bus = _routed_bus()
    _publish(bus, "canonical.routed-orders.v1", samples.routed_order(revision=2))
    _publish(bus, "canonical.orders.v1", samples.order_event())
    first = bus.topics["egress.netsuite.sales-orders"][0]
    _publish(bus, "canonical.routed-orders.v1", samples.routed_order(revision=1))  # stale
    _publish(bus, "canonical.routed-orders.v1", samples.routed_order(revision=3, entity=None, status="HELD"))
    assert len(bus.topics["egress.netsuite.sales-orders"]) == 1
    _publish(bus, "canonical.routed-orders.v1", samples.routed_order(revision=4))
    _publish(bus, "canonical.orders.v1", samples.order_event(OrderChange.UPDATED))
    records = bus.topics["egress.netsuite.sales-orders"]
    assert len(records) == 3
    keys = [_headers(r)[HEADERS["idempotency_key"]] for r in records]
    assert len(set(keys)) == 3  # every (order version, decision revision) is its own delivery
    assert {_headers(r)[HEADERS["external_id"]] for r in records} == {_headers(first)[HEADERS["external_id"]]}


def test_without_an_entity_map_routing_gates_and_order_targets_apply() -> None:
    bus = InMemoryBus()
    bus.deploy(build_service(samples.settings(routed_orders_topic="canonical.routed-orders.v1")))
    _publish(bus, "canonical.orders.v1", samples.order_event())
    assert bus.topics["egress.sap.orders"] == []
    _publish(bus, "canonical.routed-orders.v1", samples.routed_order())
    assert len(bus.topics["egress.netsuite.sales-orders"]) == 1
    assert len(bus.topics["egress.sap.orders"]) == 1


def test_an_unknown_erp_entity_is_dead_lettered_by_name() -> None:
    bus = _routed_bus()
    _publish(bus, "canonical.orders.v1", samples.order_event())
    _publish(bus, "canonical.routed-orders.v1", samples.routed_order(entity="DE01"))
    [letter] = bus.topics["dlq.egress-translator"]
    assert "no EGRESS_ERP_ENTITIES entry for 'DE01'" in _headers(letter)["esb.dlq.error.message"].decode()


def test_business_central_gets_every_order_version_in_order_on_one_key() -> None:
    """PLACED -> deep insert; UPDATED/CANCELLED -> change documents on the same topic and key, so the
    connector (one document in flight per partition) applies them after the create, in order."""
    bus = InMemoryBus()
    entities = {"US01": ErpEntity(target="business-central")}
    bus.deploy(
        build_service(
            samples.settings(routed_orders_topic="canonical.routed-orders.v1", erp_entities=entities)
        )
    )
    _publish(bus, "canonical.routed-orders.v1", samples.routed_order(revision=1))
    _publish(bus, "canonical.orders.v1", samples.order_event())
    _publish(bus, "canonical.orders.v1", samples.order_version(OrderChange.UPDATED, 2, {"466157049": 1}))
    _publish(bus, "canonical.orders.v1", samples.order_version(OrderChange.CANCELLED, 3))
    records = bus.topics["egress.business-central.sales-orders"]
    seen = [
        (_headers(r)[HEADERS["document_type"]].decode(), _headers(r)[HEADERS["method"]].decode())
        for r in records
    ]
    assert seen == [
        ("business-central.salesOrder", "POST"),
        ("business-central.salesOrderChange", "PATCH"),
        ("business-central.salesOrderChange", "DELETE"),
    ]
    assert len({r.key for r in records}) == 1
    assert len({_headers(r)[HEADERS["idempotency_key"]] for r in records}) == 3
    assert jsondoc.loads(records[1].value)["salesOrderLines"][0]["quantity"] == 1
