"""ESB_CONSUMER_GROUP: the runtime consumes and commits as the configured group, not its name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import Producer

from bus.config import BusSettings, KafkaSettings, RuntimeSettings, SchemaRegistrySettings
from bus.runtime import build_runtime
from bus.serde import BytesCodec
from bus.service import Input, Output, Service
from tests.infra import StackEndpoints
from tests.integration.runtime.harness import committed_total, copy_handler, in_thread, wait_until

pytestmark = pytest.mark.integration

PARTITIONS = 2
RECORDS = 20


def test_a_configured_group_owns_the_progress(
    stack: StackEndpoints,
    create_topic: Callable[..., str],
    unique_name: Callable[[str], str],
    tmp_path: Path,
) -> None:
    source = create_topic("inputs", PARTITIONS)
    output = create_topic("outputs", PARTITIONS)
    name, group = unique_name("copy"), unique_name("copy-group")
    service = Service(
        name=name,
        inputs=[Input(source, BytesCodec())],
        outputs=[Output(output, BytesCodec())],
        handler=copy_handler(output),
    )
    settings = BusSettings(
        kafka=KafkaSettings(bootstrap_servers=stack.bootstrap_servers),
        schema_registry=SchemaRegistrySettings(url=stack.schema_registry_url),
        runtime=RuntimeSettings(state_dir=tmp_path, commit_interval_ms=50, consumer_group=group),
    )
    producer = Producer({"bootstrap.servers": stack.bootstrap_servers})
    for i in range(RECORDS):
        producer.produce(source, f"v{i}".encode(), key=f"k{i}".encode())
    assert producer.flush(30) == 0

    with in_thread(build_runtime(service, settings)) as errors:
        assert wait_until(
            lambda: committed_total(stack.bootstrap_servers, group, source, PARTITIONS) >= RECORDS or errors,
            timeout=120,
        )
    assert errors == []
    assert committed_total(stack.bootstrap_servers, group, source, PARTITIONS) == RECORDS
    assert committed_total(stack.bootstrap_servers, name, source, PARTITIONS) == 0
