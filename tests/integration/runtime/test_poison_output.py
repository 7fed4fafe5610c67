"""A poison output: the broker refuses it for good, its input is dead-lettered, the partition goes on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from bus.config import BusSettings, KafkaSettings, RuntimeSettings, SchemaRegistrySettings
from bus.dlq import read_dead_letters
from bus.runtime import build_runtime
from bus.serde import BytesCodec
from bus.service import Context, Emit, Event, Input, Outgoing, Output, Service
from tests.infra import StackEndpoints
from tests.integration.runtime.harness import committed_total, in_thread, read_all, wait_until

pytestmark = pytest.mark.integration

LIMIT = 2048  # the output topic's max.message.bytes
PARTITIONS = 2


def _inflate(output: str) -> Callable[[Event[Any], Context], Sequence[Outgoing]]:
    def handle(event: Event[Any], ctx: Context) -> Sequence[Outgoing]:
        size = int(event.value.decode().split(":")[1])
        return [Emit(output, event.key, event.value + b"." * size)]

    return handle


def test_an_output_over_the_topics_max_message_bytes_dead_letters_its_input(
    stack: StackEndpoints,
    create_topic: Callable[..., str],
    unique_name: Callable[[str], str],
    kafka_admin: AdminClient,
    tmp_path: Path,
) -> None:
    source = create_topic("inputs", PARTITIONS)
    output = create_topic("outputs", PARTITIONS, {"max.message.bytes": str(LIMIT)})
    name = unique_name("inflate")
    service = Service(
        name=name,
        inputs=[Input(source, BytesCodec())],
        outputs=[Output(output, BytesCodec())],
        handler=_inflate(output),
    )
    settings = BusSettings(
        kafka=KafkaSettings(bootstrap_servers=stack.bootstrap_servers),
        schema_registry=SchemaRegistrySettings(url=stack.schema_registry_url),
        runtime=RuntimeSettings(state_dir=tmp_path, commit_interval_ms=50, commit_every=100),
    )
    # Records that fit, with two that cannot on partition 0 and one on partition 1, among them.
    sizes = {0: [10, 20, 10 * LIMIT, 30, 5 * LIMIT, 40], 1: [10, 3 * LIMIT, 20]}
    producer = Producer({"bootstrap.servers": stack.bootstrap_servers})
    for partition, values in sizes.items():
        for i, size in enumerate(values):
            producer.produce(source, f"{partition}-{i}:{size}".encode(), key=b"k", partition=partition)
    assert producer.flush(30) == 0
    total = sum(len(values) for values in sizes.values())

    with in_thread(build_runtime(service, settings)) as errors:
        assert wait_until(
            lambda: committed_total(stack.bootstrap_servers, name, source, PARTITIONS) >= total or errors,
            timeout=120,
        )
    assert errors == []
    assert committed_total(stack.bootstrap_servers, name, source, PARTITIONS) == total

    delivered = sorted(
        m.value().split(b".")[0] for m in read_all(stack.bootstrap_servers, output, PARTITIONS)
    )
    assert delivered == sorted(
        f"{p}-{i}:{size}".encode()
        for p, values in sizes.items()
        for i, size in enumerate(values)
        if size < LIMIT
    )
    letters = read_dead_letters(settings.kafka.client_config(), name)
    assert sorted((d.source_partition, d.source_offset) for d in letters) == [(0, 2), (0, 4), (1, 1)]
    assert {d.stage for d in letters} == {"produce"}
    assert {d.error_class for d in letters} == {"bus.errors.OutputRejectedError"}
    assert all("MSG_SIZE_TOO_LARGE" in d.error_message for d in letters)
    assert sorted(d.value for d in letters) == sorted([b"0-2:20480", b"0-4:10240", b"1-1:6144"])
    for future in kafka_admin.delete_topics([f"dlq.{name}"]).values():
        future.result(timeout=30)
