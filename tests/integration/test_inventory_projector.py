"""The inventory projector on the real broker: kill -9 during a messy feed, and rebuild.

The from-scratch recomputation is the pure handler driven in memory over the input topic as the
broker stored it (partition order). Levels are compared per stock position as whole sequences:
under exactly-once the committed ``inventory-levels`` records of a position are exactly the levels
the recomputation publishes, in order - so no level is missing, duplicated, or was never true, and
the last one of each position is the final level.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.serialization import MessageField, SerializationContext

from bus.clients import PARTITIONER
from bus.config import BusSettings, KafkaSettings, SchemaRegistrySettings
from esb.devstack.processes import free_port
from schemas.common.models import EventMetadata, SourceRef
from schemas.ids import stock_key
from schemas.inventory.models import ReservationEvent, ReservationKind
from services.inventory_projector.handler import SKUS, build_service
from services.inventory_projector.rebuild import rebuild
from services.inventory_projector.settings import ProjectorSettings
from tests.infra import StackEndpoints
from tests.integration.inventory_check import Levels, levels_by_position, recompute
from tests.integration.inventory_feed import MovementFeed, reservation_serializer
from tests.integration.runtime.harness import (
    ServiceProcess,
    committed_total,
    read_all,
    running,
    service_env,
    wait_until,
)

pytestmark = pytest.mark.integration

PARTITIONS = 4
# The size: about a minute and a half on a 2-core machine. The same scenario with more kills
# runs as the soak in benchmarks/inventory_projector.py --soak.
MOVEMENTS = int(os.environ.get("INVENTORY_KILL9_MOVEMENTS", "100000"))
KILLS = 4

Topics = dict[str, str]


@pytest.fixture
def topics(create_topic: Callable[..., str]) -> Topics:
    compact = {"cleanup.policy": "compact"}
    return {
        "movements_topic": create_topic("mv", PARTITIONS),
        "reservations_topic": create_topic("rs", PARTITIONS),
        "levels_topic": create_topic("levels", PARTITIONS, compact),
        "channel_topic": create_topic("chan", PARTITIONS, compact),
        "alerts_topic": create_topic("alerts", PARTITIONS),
    }


@pytest.fixture
def service_name(unique_name: Callable[[str], str], kafka_admin: AdminClient) -> Iterator[str]:
    name = unique_name("ip")
    yield name
    stores = build_service(ProjectorSettings(service_name=name)).stores
    runtime_topics = [f"dlq.{name}"] + [f"{name}.{store.name}.changelog" for store in stores]
    existing = set(kafka_admin.list_topics(timeout=30).topics)
    doomed = [t for t in runtime_topics if t in existing]
    if doomed:
        for future in kafka_admin.delete_topics(doomed).values():
            with contextlib.suppress(Exception):
                future.result(timeout=30)


def _settings(name: str, topics: Topics) -> ProjectorSettings:
    return ProjectorSettings(service_name=name, drift_threshold=5, **topics)  # type: ignore[arg-type]


def _env(
    stack: StackEndpoints, state: Path, name: str, topics: Topics, ops_port: int | None = None
) -> dict[str, str]:
    extra = {f"INVENTORY_PROJECTOR_{key.upper()}": value for key, value in topics.items()}
    if ops_port is not None:
        extra |= {"ESB_HTTP_PORT": str(ops_port), "ESB_HTTP_HOST": "127.0.0.1"}
    return service_env(
        stack,
        state,
        INVENTORY_PROJECTOR_SERVICE_NAME=name,
        INVENTORY_PROJECTOR_DRIFT_THRESHOLD="5",
        ESB_INSTANCE_ID="0",
        ESB_COMMIT_EVERY="2000",
        **extra,
    )


def _levels(stack: StackEndpoints, topic: str) -> Levels:
    return levels_by_position(stack.bootstrap_servers, stack.schema_registry_url, topic, PARTITIONS)


def _atp(port: int, sku: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{port}/atp/{sku}", timeout=5)


def _atp_answers(port: int) -> dict[str, tuple[int, int, int, int]]:
    """``GET /atp/{sku}`` on the projector's ops port for every SKU of the feed."""
    answers = {}
    for index in range(200):
        sku = f"SKU-{index:05d}"
        response = _atp(port, sku)
        if response.status_code != 200:
            continue
        for location, data in response.json()["locations"].items():
            answers[str(stock_key(sku, location))] = (
                data["on_hand"],
                data["reserved"],
                data["available_to_promise"],
                data["revision"],
            )
    return answers


def _await_inputs(stack: StackEndpoints, name: str, topic: str, total: int, process: ServiceProcess) -> None:
    def done() -> bool:
        assert process.alive, "the projector died on its own"
        return committed_total(stack.bootstrap_servers, name, topic, PARTITIONS) >= total

    assert wait_until(done, timeout=600, interval=1.0), "the projector did not finish the input"


def test_kill9_during_a_messy_feed_leaves_only_true_levels(
    stack: StackEndpoints, topics: Topics, service_name: str, tmp_path: Path
) -> None:
    settings = _settings(service_name, topics)
    feed = MovementFeed(stack.bootstrap_servers, stack.schema_registry_url, topics["movements_topic"])
    feed.send(MOVEMENTS // 10)  # a first slice, so the projector starts with work to do
    process = ServiceProcess(
        "services.inventory_projector",
        _env(stack, tmp_path / "state", service_name, topics),
        tmp_path / "log",
    )
    rng = random.Random(5)
    with running([process]):
        process.start()
        slices = KILLS + 1
        rest = MOVEMENTS - feed.sent
        for index in range(slices):
            feed.send(rest // slices if index < slices - 1 else MOVEMENTS - feed.sent)
            if index < KILLS:
                time.sleep(rng.uniform(1.5, 4.0))
                process.kill()
                process.start()
        _await_inputs(stack, service_name, topics["movements_topic"], MOVEMENTS, process)
        assert process.stop() == 0
    assert process.kills == KILLS

    published = _levels(stack, topics["levels_topic"])
    expected = recompute(stack.bootstrap_servers, stack.schema_registry_url, settings, PARTITIONS)
    assert sum(len(levels) for levels in expected.values()) > MOVEMENTS // 2  # most movements change a level
    assert published == expected
    dead = read_all(stack.bootstrap_servers, f"dlq.{service_name}", 1, timeout=30)
    assert dead == []


def _reserve(stack: StackEndpoints, topic: str, count: int, seed: int) -> int:
    serialize = reservation_serializer(stack.schema_registry_url)
    producer = Producer(
        {"bootstrap.servers": stack.bootstrap_servers, "enable.idempotence": True, "partitioner": PARTITIONER}
    )
    rng = random.Random(seed)
    sent = 0
    for index in range(count):
        sku, location = f"SKU-{rng.randrange(200):05d}", f"L{rng.randrange(5):02d}"
        reservation = ReservationEvent(
            metadata=EventMetadata(
                event_id=uuid.uuid4(),
                event_type="stock.reserved",
                occurred_at=datetime.now(UTC),
                ingested_at=datetime.now(UTC),
                source=SourceRef(system="esb", account="router", entity="reservation", native_id=str(index)),
            ),
            reservation_id=uuid.uuid4(),
            kind=ReservationKind.RESERVE,
            sku=sku,
            location=location,
            quantity=rng.randint(1, 4),
        )
        value = serialize(reservation, SerializationContext(topic, MessageField.VALUE))
        producer.produce(topic, value, key=sku.encode())
        sent += 1
    assert producer.flush(30) == 0
    return sent


def test_rebuild_recomputes_the_incremental_levels(
    stack: StackEndpoints, topics: Topics, service_name: str, tmp_path: Path
) -> None:
    settings = _settings(service_name, topics)
    feed = MovementFeed(
        stack.bootstrap_servers, stack.schema_registry_url, topics["movements_topic"], seed=21
    )
    feed.send(3000)
    reservations = _reserve(stack, topics["reservations_topic"], 300, seed=3)
    port = free_port()
    env = _env(stack, tmp_path / "state", service_name, topics, ops_port=port)
    process = ServiceProcess("services.inventory_projector", env, tmp_path / "log")
    with running([process]):
        process.start()
        _await_inputs(stack, service_name, topics["movements_topic"], feed.sent, process)
        _await_inputs(stack, service_name, topics["reservations_topic"], reservations, process)
        incremental = _levels(stack, topics["levels_topic"])
        final = {key: levels[-1] for key, levels in incremental.items()}
        # GET /atp on the ops port (the committed SKU store) reaches the final levels.
        assert wait_until(lambda: _atp_answers(port) == final, timeout=300, interval=2.0), (
            "GET /atp did not reach the final levels"
        )
        answer = _atp(port, "SKU-00000")
        assert answer.status_code == 200
        positions = json.loads(answer.headers["ESB-State-Positions"])
        reflects = answer.json()["reflects"]
        assert str(reflects["store_partition"]) in positions[SKUS]
        assert reflects["changelog_offset"] == positions[SKUS][str(reflects["store_partition"])] is not None
        assert _atp(port, "SKU-99999").status_code == 404
        assert process.stop() == 0

    bus = BusSettings(
        kafka=KafkaSettings(bootstrap_servers=stack.bootstrap_servers),
        schema_registry=SchemaRegistrySettings(url=stack.schema_registry_url),
    )
    pending = rebuild(build_service(settings), bus, frozenset())
    assert pending == {topics["movements_topic"]: feed.sent, topics["reservations_topic"]: reservations}

    with running([process]):
        process.start()
        _await_inputs(stack, service_name, topics["movements_topic"], feed.sent, process)
        _await_inputs(stack, service_name, topics["reservations_topic"], reservations, process)
        assert process.stop() == 0
    after = _levels(stack, topics["levels_topic"])
    # Republished from scratch after the incremental levels. The two input topics may interleave
    # differently this time, so the paths can differ; where each position ends may not.
    rebuilt = {key: levels[len(incremental[key]) :] for key, levels in after.items()}
    assert all(rebuilt.values()), "a position was not republished"
    assert {key: levels[-1][:3] for key, levels in rebuilt.items()} == {
        key: levels[-1][:3] for key, levels in incremental.items()
    }
