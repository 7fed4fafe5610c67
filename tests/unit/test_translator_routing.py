"""The translator writes each stock movement twice: keyed by stock position to ``.v1`` (ledger,
egress) and keyed by SKU to ``.v2`` (the inventory projector), the same value in both."""

from __future__ import annotations

import pytest

from bus.testing import InMemoryBus
from schemas.ids import stock_key
from schemas.inventory import StockMovementEvent
from services.gateway.headers import ingress_headers
from services.translator.routing import destinations_of
from services.translator.service import build_service
from services.translator.settings import TranslatorSettings
from tests.translate_support import conformance

pytestmark = pytest.mark.unit

V1, V2 = "canonical.stock-movements.v1", "canonical.stock-movements.v2"


def _translated(locations: dict[str, str] | None = None) -> InMemoryBus:
    bus = InMemoryBus()
    bus.deploy(build_service(TranslatorSettings(native="off", locations=locations or {})))
    headers = ingress_headers(
        system="magento",
        account="demo",
        event_id="m-1",
        event_topic="source-items",
        received_at=1_714_564_800.0,
        content_type="application/json",
        trace_context={},
        redactions=0,
    )
    body = conformance("magento2", "msi_source_items_request.json")
    bus.publish("ingress.magento.source-items", body, key=b"demo/1", headers=headers)
    return bus


def _movements(bus: InMemoryBus, topic: str) -> list[tuple[bytes | None, StockMovementEvent]]:
    return [(r.key, bus.decode(topic, r.value)) for r in bus.topics[topic] if r.value]


def test_a_movement_goes_to_v1_by_position_and_to_v2_by_sku() -> None:
    bus = _translated()
    v1, v2 = _movements(bus, V1), _movements(bus, V2)
    assert v1, "the conformance payload has stock movements"
    assert [value for _, value in v1] == [value for _, value in v2]
    assert [key for key, _ in v1] == [str(stock_key(m.sku, m.location)).encode() for _, m in v1]
    assert [key for key, _ in v2] == [m.sku.encode() for _, m in v2]
    assert not bus.topics["dlq.translator"]


def test_both_keys_follow_the_relocated_location() -> None:
    event = _movements(_translated(), V1)[0][1]
    bus = _translated({event.location: "WH-ENTERPRISE-1"})
    relocated = [m for _, m in _movements(bus, V2) if m.location == "WH-ENTERPRISE-1"]
    assert relocated
    keys = {key for key, m in _movements(bus, V1) if m.location == "WH-ENTERPRISE-1"}
    assert keys == {str(stock_key(m.sku, "WH-ENTERPRISE-1")).encode() for m in relocated}


def test_a_movement_has_two_destinations_and_the_first_is_v1() -> None:
    event = _movements(_translated(), V1)[0][1]
    assert [d.topic for d in destinations_of(event)] == [V1, V2]


def test_the_movement_is_counted_once() -> None:
    bus = _translated()
    sample = bus.metrics("translator").registry.get_sample_value(
        "translator_canonical_events_total", {"event": "StockMovementEvent", "path": "adapter"}
    )
    assert sample == len(bus.topics[V1])
