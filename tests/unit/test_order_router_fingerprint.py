"""The order stage's content fingerprint (an identical order event produces nothing) across the
change of its format: a fingerprint stored by an older router still recognises the same content."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from schemas.orders.models import OrderChange, OrderEvent
from tests.order_router_support import RouterBus, line, order_event

pytestmark = pytest.mark.unit

TOPICS = ("routed", "reservations", "fulfillment", "by-sku")


def _legacy(event: OrderEvent) -> str:
    """The fingerprint as routers before the tagged format stored it."""
    body = {"change": event.change.value, "order": event.order.model_dump(mode="json")}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _with_new_id(event: OrderEvent) -> OrderEvent:
    return event.model_copy(update={"metadata": event.metadata.model_copy(update={"event_id": uuid.uuid4()})})


def _stored(bus: RouterBus, event: OrderEvent) -> dict[str, object]:
    state = bus.bus.state(bus.settings.service_name, "orders").get(str(event.order.order_id))
    assert isinstance(state, dict)
    return state


def _store_legacy_fingerprint(bus: RouterBus, event: OrderEvent) -> None:
    store = bus.bus.state(bus.settings.service_name, "orders")
    state = dict(_stored(bus, event), fp=_legacy(event))
    store.put(str(event.order.order_id), state)
    store.commit_to_disk(store.pending_changes(), None)


def test_an_identical_order_is_dropped_under_a_fingerprint_stored_by_an_older_router() -> None:
    bus = RouterBus()
    bus.stock("A", "WH-A", 5)
    first = order_event("1", [line("1", "A", 2)])
    bus.send_order(first)
    assert str(_stored(bus, first)["fp"]).startswith("2:")
    _store_legacy_fingerprint(bus, first)
    counts = {t: len(bus.bus.topics[t]) for t in TOPICS}
    bus.send_order(_with_new_id(first))  # same content, new event id
    assert {t: len(bus.bus.topics[t]) for t in TOPICS} == counts
    assert _stored(bus, first)["fp"] == _legacy(first)


def test_a_changed_order_is_planned_again_under_a_legacy_fingerprint() -> None:
    bus = RouterBus()
    bus.stock("A", "WH-A", 5)
    first = order_event("1", [line("1", "A", 2)])
    bus.send_order(first)
    _store_legacy_fingerprint(bus, first)
    grown = order_event("1", [line("1", "A", 3)], change=OrderChange.UPDATED, at_s=10)
    bus.send_order(grown)
    assert [(r.kind.value, r.quantity) for r in bus.reservations()] == [("RESERVE", 2), ("RESERVE", 3)]
    assert str(_stored(bus, grown)["fp"]).startswith("2:")
    counts = {t: len(bus.bus.topics[t]) for t in TOPICS}
    bus.send_order(_with_new_id(grown))  # the new format recognises it too
    assert {t: len(bus.bus.topics[t]) for t in TOPICS} == counts
