from __future__ import annotations

import pytest

from services.gateway.dedupe import SeenEvents
from services.gateway.topics import InvalidTopicError, ingress_topic, shopify_entity, woocommerce_entity

pytestmark = pytest.mark.unit


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_seen_events_expire_after_the_ttl() -> None:
    clock = FakeClock()
    seen = SeenEvents(ttl_s=60, max_entries=10, clock=clock)
    assert not seen.seen("a")
    seen.remember("a")
    clock.now += 59
    assert seen.seen("a")
    clock.now += 2
    assert not seen.seen("a")
    assert len(seen) == 0


def test_seen_events_are_bounded_oldest_first() -> None:
    seen = SeenEvents(ttl_s=60, max_entries=3, clock=FakeClock())
    for event in "abcd":
        seen.remember(event)
    assert len(seen) == 3
    assert not seen.seen("a")
    assert all(seen.seen(event) for event in "bcd")


@pytest.mark.parametrize(
    ("topic", "entity"),
    [
        ("orders/create", "orders"),
        ("inventory_levels/update", "inventory-levels"),
        ("refunds/create", "refunds"),
    ],
)
def test_shopify_topics(topic: str, entity: str) -> None:
    assert shopify_entity(topic) == entity


@pytest.mark.parametrize(
    ("topic", "entity"),
    [("order.created", "orders"), ("product.updated", "products"), ("action.woocommerce_x", "actions")],
)
def test_woocommerce_topics(topic: str, entity: str) -> None:
    assert woocommerce_entity(topic) == entity


def test_topic_names_and_rejected_components() -> None:
    assert ingress_topic("t1.", "shopify", "orders") == "t1.ingress.shopify.orders"
    for bad in ("../x", "", "a b", "x" * 70):
        with pytest.raises(InvalidTopicError):
            ingress_topic("", "shopify", bad)
