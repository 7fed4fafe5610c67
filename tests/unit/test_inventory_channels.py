"""Per-channel availability: the sum over the channel's locations, minus its buffer, coalesced."""

from __future__ import annotations

import pytest

from schemas.ids import channel_stock_key
from schemas.inventory.models import MovementKind as K
from services.inventory_projector import coalesce
from services.inventory_projector.handler import make_handler
from services.inventory_projector.settings import ChannelConfig
from tests.inventory_support import Driver, movement, settings

pytestmark = pytest.mark.unit

CHANNELS = {
    "web": ChannelConfig(locations=("WH1", "WH2"), buffer=3),
    "pos": ChannelConfig(locations=("STORE",)),
}


def _driver(interval_ms: int = 1000) -> Driver:
    config = settings(channels=CHANNELS, coalesce_interval_ms=interval_ms, safety_stock={"WH2": 1})
    return Driver(make_handler(config), config)


def test_channel_availability_sums_atp_of_its_locations_minus_the_buffer() -> None:
    driver = _driver(interval_ms=0)
    driver.feed(
        [
            movement(K.RECEIPT, 10, 1, location="WH1"),
            movement(K.RECEIPT, 5, 2, location="WH2"),  # ATP 4 after safety stock
            movement(K.RECEIPT, 7, 3, location="STORE"),
        ]
    )
    web = [c for c in driver.on("channels") if c.channel == "web"]
    pos = [c for c in driver.on("channels") if c.channel == "pos"]
    assert [c.available for c in web] == [7, 11]  # max(10 - 3, 0), then 10 + 4 - 3
    assert [c.available for c in pos] == [7]
    keys = {item.key for item in driver.emitted if item.topic == "channels"}
    assert keys == {str(channel_stock_key("SKU-1", "web")), str(channel_stock_key("SKU-1", "pos"))}


def test_a_hot_sku_emits_at_most_once_per_interval_and_the_held_value_follows() -> None:
    driver = _driver(interval_ms=1000)
    driver.feed([movement(K.RECEIPT, 20, 1)])
    driver.feed([movement(K.SHIPMENT, -1, 2), movement(K.SHIPMENT, -1, 3), movement(K.SHIPMENT, -1, 4)])
    assert [c.available for c in driver.on("channels")] == [17]
    driver.clock_ms += 1000
    driver.feed([movement(K.SHIPMENT, -1, 5)])
    assert [c.available for c in driver.on("channels")] == [17, 13]


def test_a_held_value_of_another_channel_is_flushed_by_any_update_of_the_sku() -> None:
    driver = _driver(interval_ms=1000)
    driver.feed([movement(K.RECEIPT, 20, 1, location="WH1"), movement(K.RECEIPT, 5, 1, location="STORE")])
    driver.feed([movement(K.SHIPMENT, -2, 2, location="WH1")])  # web held: 15
    driver.clock_ms += 1500
    driver.feed([movement(K.RECEIPT, 1, 3, location="STORE")])  # a pos update of the same SKU
    web = [c.available for c in driver.on("channels") if c.channel == "web"]
    assert web == [17, 15]


def test_sold_out_is_never_held_back() -> None:
    driver = _driver(interval_ms=60_000)
    driver.feed([movement(K.RECEIPT, 5, 1)])
    driver.feed([movement(K.SHIPMENT, -5, 2)])
    assert [c.available for c in driver.on("channels") if c.channel == "web"] == [2, 0]


@pytest.mark.parametrize(
    ("slot", "value", "now", "expected"),
    [
        (None, 5, 0, (coalesce.Slot(5, 0), 5)),
        (coalesce.Slot(5, 0), 4, 10, (coalesce.Slot(5, 0, 4), None)),
        (coalesce.Slot(5, 0, 4), 5, 20, (coalesce.Slot(5, 0), None)),
        (coalesce.Slot(5, 0), 4, 100, (coalesce.Slot(4, 100), 4)),
        (coalesce.Slot(5, 0), 0, 1, (coalesce.Slot(0, 1), 0)),
        # Record time went backwards (another producer's clock, a back-fill): not held for good.
        (coalesce.Slot(50, 1_000), 3, 400, (coalesce.Slot(3, 400), 3)),
    ],
)
def test_offer(slot: coalesce.Slot | None, value: int, now: int, expected: object) -> None:
    assert coalesce.offer(slot, value, now, 100) == expected


def test_flush_waits_for_the_interval() -> None:
    slot = coalesce.Slot(5, 0, 3)
    assert coalesce.flush(slot, 99, 100) == (slot, None)
    assert coalesce.flush(slot, 100, 100) == (coalesce.Slot(3, 100), 3)
    assert coalesce.flush(coalesce.Slot(5, 1_000, 3), 400, 100) == (coalesce.Slot(3, 400), 3)
