"""A replica restarted with other inputs (a new topic version) reads the new inputs at once.

Under the classic group protocol a static member that rejoins a stable group is handed its previous
assignment, whatever it now subscribes to (KAFKA-12759), and librdkafka consumes it. The runtime's
``group.instance.id`` carries a digest of the subscription, so the restarted replica joins as a new
member and is assigned its own topics.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import Producer

from bus.clients import static_member
from bus.config import BusSettings, KafkaSettings, RuntimeSettings, SchemaRegistrySettings
from bus.runtime import build_runtime
from bus.serde import BytesCodec
from bus.service import Input, Output, Service
from tests.infra import StackEndpoints
from tests.integration.runtime.harness import committed_total, copy_handler, in_thread, wait_until

pytestmark = pytest.mark.integration

PARTITIONS = 2
RECORDS = 20


def _fill(bootstrap: str, topic: str) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for i in range(RECORDS):
        producer.produce(topic, f"v{i}".encode(), key=f"k{i}".encode())
    assert producer.flush(30) == 0


def test_a_replica_restarted_with_new_inputs_reads_them(
    stack: StackEndpoints,
    create_topic: Callable[..., str],
    unique_name: Callable[[str], str],
    tmp_path: Path,
) -> None:
    old_input, new_input = create_topic("v1", PARTITIONS), create_topic("v2", PARTITIONS)
    output = create_topic("outputs", PARTITIONS)
    name = unique_name("versioned")
    # The second replica starts within the first one's session: a static member does not leave the
    # group on close, so the coordinator still has it when the second one joins.
    settings = BusSettings(
        kafka=KafkaSettings(bootstrap_servers=stack.bootstrap_servers),
        schema_registry=SchemaRegistrySettings(url=stack.schema_registry_url),
        runtime=RuntimeSettings(state_dir=tmp_path, commit_interval_ms=50),
    )
    _fill(stack.bootstrap_servers, old_input)
    _fill(stack.bootstrap_servers, new_input)

    def service(topic: str) -> Service:
        return Service(
            name=name,
            inputs=[Input(topic, BytesCodec())],
            outputs=[Output(output, BytesCodec())],
            handler=copy_handler(output),
        )

    def done(topic: str) -> int:
        return committed_total(stack.bootstrap_servers, name, topic, PARTITIONS)

    with in_thread(build_runtime(service(old_input), settings)) as errors:
        assert wait_until(lambda: done(old_input) >= RECORDS or errors, timeout=120)
    assert errors == []
    with in_thread(build_runtime(service(new_input), settings)) as errors:
        assert wait_until(lambda: done(new_input) >= RECORDS or errors, timeout=60)
    assert errors == []
    assert done(new_input) == RECORDS


def test_the_member_id_follows_the_subscription_only() -> None:
    assert static_member("svc-0", ["b", "a"]) == static_member("svc-0", ["a", "b", "a"])
    assert static_member("svc-0", ["a"]) != static_member("svc-0", ["b"])
    assert static_member("svc-0", ["a"]) != static_member("svc-1", ["a"])
    assert static_member("svc-0", ["a"]).startswith("svc-0.")
