"""The declared service through the runtime's own record path (Avro codecs, mock registry), and the
ATP queries the runtime serves over its committed SKU store."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from bus.config import BusSettings, KafkaSettings, RuntimeSettings, SchemaRegistrySettings
from bus.query import POSITIONS_HEADER, QueryRouter
from bus.serde import SerdeError
from bus.testing import InMemoryBus, StaticState
from schemas.ids import stock_key
from schemas.inventory.models import InventoryLevel, StockMovementEvent
from schemas.inventory.models import MovementKind as K
from services.inventory_projector.__main__ import with_query_port
from services.inventory_projector.handler import SKUS, build_service
from services.inventory_projector.records import AtpUpdate, AtpUpdateCodec
from services.inventory_projector.settings import ChannelConfig, ProjectorSettings
from tests.inventory_support import movement, settings

pytestmark = pytest.mark.unit

CONFIG = settings(channels={"web": ChannelConfig(locations=("WH1", "WH2"), buffer=1)}, coalesce_interval_ms=0)


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


# What the pydantic model of earlier versions wrote: records still in the repartition topic at an
# upgrade must read the same.
_ATP_JSON = (
    b'{"sku":"SKU-1","location":"WH1","on_hand":6,"reserved":1,"safety_stock":0,'
    b'"available_to_promise":5,"revision":2,"as_of_ms":1767225600001,"source_topic":"mv",'
    b'"source_partition":3,"source_offset":41,"correlation_id":null,"causation_id":"c-1",'
    b'"ingested_at_ms":1767225600002}'
)


def test_the_repartition_record_keeps_its_json_and_is_read_strictly() -> None:
    codec = AtpUpdateCodec().bind(None, auto_register=False)
    update = codec.decode(_ATP_JSON, "by-sku")
    assert update == AtpUpdate(
        sku="SKU-1",
        location="WH1",
        on_hand=6,
        reserved=1,
        safety_stock=0,
        available_to_promise=5,
        revision=2,
        as_of_ms=1_767_225_600_001,
        source_topic="mv",
        source_partition=3,
        source_offset=41,
        correlation_id=None,
        causation_id="c-1",
        ingested_at_ms=1_767_225_600_002,
    )
    assert codec.encode(update, "by-sku") == _ATP_JSON
    for bad in (_ATP_JSON.replace(b'"on_hand":6', b'"on_hand":"6"'), _ATP_JSON[:-1] + b',"x":1}', b"[]"):
        with pytest.raises(SerdeError):
            codec.decode(bad, "by-sku")
    with pytest.raises(SerdeError):
        codec.encode({"sku": "SKU-1"}, "by-sku")


def test_a_malformed_repartition_record_is_dead_lettered(bus: InMemoryBus) -> None:
    bus.publish(CONFIG.repartition_topic, b'{"sku":"SKU-1"}', b"SKU-1")
    letters = bus.topics[f"dlq.{CONFIG.service_name}"]
    assert len(letters) == 1
    assert dict(letters[0].headers)["esb.dlq.stage"] == b"deserialize"


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
