"""The declared service through the runtime's own record path (Avro codecs, mock registry), and the
ATP queries over its store."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from urllib.error import HTTPError

import pytest

from bus.state.store import StorePartition
from bus.testing import InMemoryBus
from schemas.ids import stock_key
from schemas.inventory.models import InventoryLevel, StockMovementEvent
from schemas.inventory.models import MovementKind as K
from services.inventory_projector.handler import SKUS, build_service
from services.inventory_projector.queries import AtpQueries, QueryServer
from services.inventory_projector.settings import ChannelConfig
from tests.inventory_support import movement, settings

pytestmark = pytest.mark.unit

CONFIG = settings(channels={"web": ChannelConfig(locations=("WH1", "WH2"), buffer=1)}, coalesce_interval_ms=0)


class _Source:
    def __init__(self, store: StorePartition) -> None:
        self._store = store

    def partitions(self) -> list[StorePartition]:
        return [self._store]


@pytest.fixture
def bus() -> InMemoryBus:
    bus = InMemoryBus()
    bus.deploy(build_service(CONFIG))
    return bus


def _send(bus: InMemoryBus, event: StockMovementEvent) -> None:
    key = str(stock_key(event.sku, event.location)).encode()
    bus.publish(CONFIG.movements_topic, bus.encode(CONFIG.movements_topic, event), key)


def test_levels_and_channel_availability_go_out_as_avro(bus: InMemoryBus) -> None:
    _send(bus, movement(K.RECEIPT, 6, 1, location="WH1"))
    _send(bus, movement(K.RECEIPT, 4, 2, location="WH2"))
    levels = [bus.decode(CONFIG.levels_topic, r.value) for r in bus.topics[CONFIG.levels_topic] if r.value]
    assert all(isinstance(level, InventoryLevel) for level in levels)
    assert [(lv.location, lv.on_hand, lv.available_to_promise, lv.revision) for lv in levels] == [
        ("WH1", 6, 6, 1),
        ("WH2", 4, 4, 1),
    ]
    channel = [bus.decode(CONFIG.channel_topic, r.value) for r in bus.topics[CONFIG.channel_topic] if r.value]
    assert [c.available for c in channel] == [5, 9]
    assert not bus.topics[f"dlq.{CONFIG.service_name}"]


def test_a_malformed_movement_is_dead_lettered_and_processing_goes_on(bus: InMemoryBus) -> None:
    _send(bus, movement(K.SHIPMENT, 3, 1))
    _send(bus, movement(K.RECEIPT, 3, 2))
    assert len(bus.topics[f"dlq.{CONFIG.service_name}"]) == 1
    assert len(bus.topics[CONFIG.levels_topic]) == 1


@pytest.fixture
def server(bus: InMemoryBus) -> Iterator[str]:
    _send(bus, movement(K.RECEIPT, 6, 1, sku="A/1", location="WH1"))
    _send(bus, movement(K.RECEIPT, 2, 2, sku="A/1", location="WH2"))
    store = bus.state(CONFIG.service_name, SKUS)
    http = QueryServer("127.0.0.1", 0, AtpQueries(_Source(store), SKUS))
    http.start()
    try:
        yield f"http://127.0.0.1:{http.port}"
    finally:
        http.stop()


def _get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:  # noqa: S310 - a local test server
            return reply.status, json.loads(reply.read())
    except HTTPError as error:
        return error.code, json.loads(error.read())


def test_atp_for_a_sku_lists_every_location_with_the_offset_it_reflects(server: str) -> None:
    status, body = _get(f"{server}/atp/A%2F1")
    assert status == 200
    assert body["available_to_promise"] == 8
    assert body["channels"] == {"web": 7}
    locations = body["locations"]
    assert isinstance(locations, dict)
    assert sorted(locations) == ["WH1", "WH2"]
    assert locations["WH2"]["reflects"] == {"topic": CONFIG.movements_topic, "partition": 0, "offset": 1}


def test_atp_for_one_position(server: str) -> None:
    status, body = _get(f"{server}/atp/A%2F1/WH1")
    assert status == 200
    assert (body["on_hand"], body["available_to_promise"], body["revision"]) == (6, 6, 1)
    assert body["reflects"]["offset"] == 0  # type: ignore[index]


def test_unknown_sku_or_location_is_404(server: str) -> None:
    assert _get(f"{server}/atp/nope")[0] == 404
    assert _get(f"{server}/atp/A%2F1/WH9")[0] == 404
    assert _get(f"{server}/levels")[0] == 404
