"""The declared service through the runtime's own record path (Avro codecs, mock registry), and the
ATP queries the runtime serves over its committed SKU store."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from bus.config import BusSettings, KafkaSettings, RuntimeSettings, SchemaRegistrySettings
from bus.query import POSITIONS_HEADER, QueryRouter
from bus.service import Emit, Event, StatePut
from bus.testing import InMemoryBus, StaticState
from schemas.ids import channel_stock_key, stock_key
from schemas.inventory.models import InventoryLevel, StockMovementEvent
from schemas.inventory.models import MovementKind as K
from services.inventory_projector.__main__ import with_query_port
from services.inventory_projector.handler import SKUS, build_service
from services.inventory_projector.settings import ChannelConfig, ProjectorSettings
from tests.inventory_support import StoreContext, movement, settings

pytestmark = pytest.mark.unit

CONFIG = settings(channels={"web": ChannelConfig(locations=("WH1", "WH2"), buffer=1)}, coalesce_interval_ms=0)


@pytest.fixture
def bus() -> InMemoryBus:
    bus = InMemoryBus()
    bus.deploy(build_service(CONFIG))
    return bus


def _send(bus: InMemoryBus, event: StockMovementEvent) -> None:
    key = event.sku.encode()
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


def test_a_movement_keyed_by_its_stock_position_is_dead_lettered(bus: InMemoryBus) -> None:
    """The ``.v1`` key on the SKU-keyed input: its partition may hold other locations of the SKU."""
    event = movement(K.RECEIPT, 3, 1)
    key = str(stock_key(event.sku, event.location)).encode()
    bus.publish(CONFIG.movements_topic, bus.encode(CONFIG.movements_topic, event), key)
    [letter] = bus.topics[f"dlq.{CONFIG.service_name}"]
    assert dict(letter.headers)["esb.dlq.error.message"] == b"record key is not the SKU of its value"
    assert not bus.topics[CONFIG.levels_topic]


def test_one_handler_call_publishes_the_level_and_the_channel_value() -> None:
    """No repartition record: the channel value and the SKU store change with the level."""
    handler = build_service(CONFIG).handler
    ctx = StoreContext({})
    value = movement(K.RECEIPT, 6, 1, location="WH1")
    out = handler(Event(value, b"SKU-1", CONFIG.movements_topic, 3, 41, 1_000, {}), ctx)
    emitted = [(item.topic, item.key) for item in out if isinstance(item, Emit)]
    assert emitted == [
        (CONFIG.levels_topic, str(stock_key("SKU-1", "WH1"))),
        (CONFIG.channel_topic, str(channel_stock_key("SKU-1", "web"))),
    ]
    [channel] = [item.value for item in out if isinstance(item, Emit) and item.topic == CONFIG.channel_topic]
    assert channel.available == 5
    [entry] = [item.value for item in out if isinstance(item, StatePut) and item.store == SKUS]
    assert entry["p"] == 3
    assert entry["l"]["WH1"]["src"] == [CONFIG.movements_topic, 3, 41]


@pytest.fixture
def stocked(bus: InMemoryBus) -> InMemoryBus:
    _send(bus, movement(K.RECEIPT, 6, 1, sku="A/1", location="WH1"))
    _send(bus, movement(K.RECEIPT, 2, 2, sku="A/1", location="WH2"))
    return bus


def _get(bus: InMemoryBus, path: str) -> tuple[int, dict[str, Any], Mapping[str, str]]:
    answer = bus.query(CONFIG.service_name, path)
    return answer.status, json.loads(answer.body), answer.headers


def test_atp_for_a_sku_lists_every_location_with_the_offset_it_reflects(stocked: InMemoryBus) -> None:
    status, body, headers = _get(stocked, "/atp/A%2F1")
    assert status == 200
    assert body["sku"] == "A/1"
    assert body["available_to_promise"] == 8
    assert body["channels"] == {"web": 7}
    assert sorted(body["locations"]) == ["WH1", "WH2"]
    assert body["locations"]["WH2"]["reflects"] == {
        "topic": CONFIG.movements_topic,
        "partition": 0,
        "offset": 1,
    }
    assert body["reflects"] == {"store_partition": 0, "changelog_offset": None}  # in memory: no changelog
    assert SKUS in json.loads(headers[POSITIONS_HEADER])


def test_atp_for_one_position(stocked: InMemoryBus) -> None:
    status, body, _ = _get(stocked, "/atp/A%2F1/WH1")
    assert status == 200
    assert (body["on_hand"], body["available_to_promise"], body["revision"]) == (6, 6, 1)
    assert body["reflects"]["offset"] == 0
    assert body["reflects"]["store_partition"] == 0


def test_unknown_sku_or_location_is_404(stocked: InMemoryBus) -> None:
    assert _get(stocked, "/atp/nope")[0] == 404
    assert _get(stocked, "/atp/A%2F1/WH9")[0] == 404
    assert stocked.query(CONFIG.service_name, "/levels").status == 404


def _level(atp: int, offset: int) -> dict[str, Any]:
    return {"oh": atp, "rs": 0, "ss": 0, "atp": atp, "rv": 1, "ao": 0, "src": ["mv", 1, offset]}


def test_an_answer_names_the_store_partition_and_changelog_offset_it_reflects() -> None:
    state = StaticState(
        {
            SKUS: [
                {"B": {"l": {"WH1": _level(1, 3)}, "c": {}, "p": 0}},
                {"A": {"l": {"WH1": _level(4, 7), "WH2": _level(5, 9)}, "c": {"web": [8, 0, None]}, "p": 1}},
            ]
        }
    )
    router = QueryRouter(build_service(CONFIG).queries, state)

    def get(path: str) -> tuple[int, dict[str, Any]]:
        answer = router.answer(path)
        assert answer is not None, path
        return answer.status, json.loads(answer.body)

    status, body = get("/atp/A")
    assert status == 200
    assert (body["available_to_promise"], body["channels"]) == (9, {"web": 8})
    assert body["reflects"] == {"store_partition": 1, "changelog_offset": None}
    status, body = get("/atp/A/WH2")
    assert status == 200
    assert body["reflects"] == {
        "topic": "mv",
        "partition": 1,
        "offset": 9,
        "store_partition": 1,
        "changelog_offset": None,
    }
    status, body = get("/atp/C")
    assert status == 404
    assert "[0, 1]" in body["reason"]


def _bus(http_port: int | None) -> BusSettings:
    return BusSettings(
        kafka=KafkaSettings(bootstrap_servers="k:9092"),
        schema_registry=SchemaRegistrySettings(url="mock://inventory"),
        runtime=RuntimeSettings(http_port=http_port),
    )


def test_the_legacy_query_port_opens_the_ops_port_only_when_it_is_unset() -> None:
    unset = _bus(None)
    legacy = ProjectorSettings(query_port=8123, query_host="127.0.0.1")
    opened = with_query_port(unset, legacy)
    assert (opened.runtime.http_port, opened.runtime.http_host) == (8123, "127.0.0.1")
    ops = _bus(9000)
    assert with_query_port(ops, legacy).runtime.http_port == 9000
    assert with_query_port(unset, ProjectorSettings(query_port=None)).runtime.http_port is None
