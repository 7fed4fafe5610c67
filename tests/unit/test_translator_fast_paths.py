"""The translator's handler with compiled fast paths: what it emits when a fast path answers,
declines, differs from the adapter under ``verify``, or would bypass the location crosswalk.

The fast paths here are stand-ins with known answers (the adapter's own events, encoded; a
tampered body; a decline): what is under test is the handler and the codec around them. The
compiled extension itself is held to the adapter in ``test_native_shopify_orders.py``.
"""

from __future__ import annotations

import dataclasses

import pytest
import structlog

from bus.config import SchemaRegistrySettings
from bus.serde import AvroBody, AvroCodec, SerdeError, registry_client
from bus.testing import InMemoryBus
from schemas.inventory import StockMovementEvent
from schemas.loader import schema_text
from schemas.orders import OrderEvent
from services.gateway.headers import ingress_headers
from services.translator.adapters.shopify.orders import translate_orders
from services.translator.fast_paths import FastTranslate, reference_body
from services.translator.handler import make_handler
from services.translator.ingress import IngressRecord
from services.translator.locations import relocatable
from services.translator.registry import all_routes
from services.translator.routing import destination_of
from services.translator.service import build_service
from services.translator.settings import TranslatorSettings
from tests.translate_support import conformance

pytestmark = pytest.mark.unit

ORDERS = "canonical.orders.v1"
BODY = conformance("shopify", "api_2024-04_order_get_full.json")


def _adapter_bodies(record: IngressRecord) -> list[tuple[str, AvroBody]]:
    """A fast path that answers what the adapter does (its events, encoded)."""
    encoded = []
    for event in translate_orders(record):
        body = reference_body(event)
        assert body is not None
        encoded.append((destination_of(event).key(event), AvroBody(type(event), body)))
    return encoded


def _tampered(record: IngressRecord) -> list[tuple[str, AvroBody]]:
    return [(key, AvroBody(body.model, body.body[:-1] + b"\x02")) for key, body in _adapter_bodies(record)]


def _bus(
    fast: FastTranslate | None, *, verify: bool = False, locations: dict[str, str] | None = None
) -> InMemoryBus:
    service = build_service(TranslatorSettings(native="off", locations=locations or {}))
    routes = all_routes()
    handler = make_handler(
        routes,
        locations=locations,
        fast_routes={("shopify", "orders"): fast} if fast else {},
        verify_fast=verify,
    )
    bus = InMemoryBus()
    bus.deploy(dataclasses.replace(service, handler=handler))
    return bus


def _send(bus: InMemoryBus, body: bytes = BODY, event_id: str = "w-1") -> None:
    headers = ingress_headers(
        system="shopify",
        account="acme.myshopify.com",
        event_id=event_id,
        event_topic="orders/create",
        received_at=1_714_564_800.0,
        content_type="application/json",
        trace_context={},
        redactions=0,
    )
    bus.publish("ingress.shopify.orders", body, key=b"acme/1", headers=headers)


def _orders(bus: InMemoryBus) -> list[tuple[bytes | None, bytes | None]]:
    return [(out.key, out.value) for out in bus.topics[ORDERS]]


def test_a_fast_path_answer_is_emitted_as_the_adapter_would_have_written_it() -> None:
    by_adapter, by_fast_path = _bus(None), _bus(_adapter_bodies)
    _send(by_adapter)
    _send(by_fast_path)
    assert _orders(by_fast_path) == _orders(by_adapter)
    assert len(_orders(by_adapter)) == 1
    decoded = by_fast_path.decode(ORDERS, _orders(by_fast_path)[0][1] or b"")
    assert isinstance(decoded, OrderEvent)
    assert decoded.order.native_id


def test_a_decline_leaves_the_record_to_the_adapter() -> None:
    calls: list[IngressRecord] = []

    def declines(record: IngressRecord) -> None:
        calls.append(record)

    bus, by_adapter = _bus(declines), _bus(None)
    _send(bus)
    _send(by_adapter)
    assert len(calls) == 1
    assert _orders(bus) == _orders(by_adapter)


def test_a_redelivery_reaches_no_fast_path() -> None:
    calls: list[IngressRecord] = []

    def counting(record: IngressRecord) -> list[tuple[str, AvroBody]]:
        calls.append(record)
        return _adapter_bodies(record)

    bus = _bus(counting)
    _send(bus)
    _send(bus)
    assert len(calls) == 1
    assert len(_orders(bus)) == 1


def test_verify_emits_the_adapters_events_where_the_fast_path_differs() -> None:
    by_adapter = _bus(None)
    _send(by_adapter)
    with structlog.testing.capture_logs() as logs:
        unverified, verified = _bus(_tampered), _bus(_tampered, verify=True)
        _send(unverified)
        _send(verified)
    assert _orders(unverified) != _orders(by_adapter)  # the stand-in really differs
    assert _orders(verified) == _orders(by_adapter)
    assert [entry["event"] for entry in logs if entry["log_level"] == "error"] == [
        "fast path differs from the adapter; the adapter's events are emitted"
    ]


def test_verify_keeps_a_fast_path_answer_that_matches() -> None:
    with structlog.testing.capture_logs() as logs:
        bus = _bus(_adapter_bodies, verify=True)
        _send(bus)
    by_adapter = _bus(None)
    _send(by_adapter)
    assert _orders(bus) == _orders(by_adapter)
    assert not [entry for entry in logs if entry["log_level"] == "error"]


def test_verify_rejects_what_the_adapter_rejects_even_if_the_fast_path_answers() -> None:
    def answers_anything(record: IngressRecord) -> list[tuple[str, AvroBody]]:
        return _adapter_bodies(dataclasses.replace(record, raw=BODY))

    bus = _bus(answers_anything, verify=True)
    _send(bus, body=b'{"order": {"id": 1}}')
    assert _orders(bus) == []
    [letter] = bus.topics["dlq.translator"]
    assert dict(letter.headers)["esb.dlq.error.message"].startswith(b"$.order.currency")


def test_events_a_crosswalk_could_relocate_skip_the_fast_path() -> None:
    assert relocatable(StockMovementEvent)
    assert not relocatable(OrderEvent)

    def wrong(record: IngressRecord) -> list[tuple[str, AvroBody]]:
        return [("k", AvroBody(StockMovementEvent, b"not avro"))]

    bus = _bus(wrong, locations={"shopify:1": "WH-1"})
    by_adapter = _bus(None, locations={"shopify:1": "WH-1"})
    _send(bus)
    _send(by_adapter)
    assert _orders(bus) == _orders(by_adapter)
    assert len(_orders(bus)) == 1


def test_the_codec_adds_only_the_wire_header_to_a_body_of_its_own_model() -> None:
    registry = registry_client(SchemaRegistrySettings(url="mock://fast-paths"))
    codec = AvroCodec(OrderEvent, schema_text(OrderEvent.avro_name())).bind(registry, auto_register=True)
    event = translate_orders(
        IngressRecord.from_kafka(BODY, {"esb-source-system": b"shopify"}, "ingress.shopify.orders")
    )[0]
    written = codec.encode(event, ORDERS)
    body = reference_body(event)
    assert body is not None
    assert codec.encode(AvroBody(OrderEvent, body), ORDERS) == written
    assert codec.decode(written, ORDERS) == event
    with pytest.raises(SerdeError, match="expected OrderEvent"):
        codec.encode(AvroBody(StockMovementEvent, body), ORDERS)


def test_the_events_are_counted_by_the_path_that_wrote_them() -> None:
    def declines(record: IngressRecord) -> None:
        return None

    def sample(bus: InMemoryBus, path: str) -> float | None:
        return bus.metrics("translator").registry.get_sample_value(
            "translator_canonical_events_total", {"event": "OrderEvent", "path": path}
        )

    compiled, adapter = _bus(_adapter_bodies), _bus(declines)
    _send(compiled)
    _send(compiled, event_id="w-2")
    _send(adapter)
    assert sample(compiled, "compiled") == 2
    assert sample(compiled, "adapter") is None
    assert sample(adapter, "adapter") == 1
    assert sample(adapter, "compiled") is None
