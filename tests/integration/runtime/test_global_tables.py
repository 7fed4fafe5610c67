"""A global table on the real broker: read in full before the first record, then kept up to date."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from bus.config import BusSettings, KafkaSettings, RuntimeSettings, SchemaRegistrySettings
from bus.runtime import build_runtime
from bus.serde import BytesCodec
from bus.service import Context, Emit, Event, GlobalInput, Input, Outgoing, Output, Service
from tests.infra import StackEndpoints
from tests.integration.runtime.harness import in_thread, read_all, wait_until

pytestmark = pytest.mark.integration

KEYS = 300
TABLE_PARTITIONS = 3


def _lookup(output: str) -> Callable[[Event[Any], Context], Sequence[Outgoing]]:
    def handle(event: Event[Any], ctx: Context) -> Sequence[Outgoing]:
        rate = ctx.state("rates").get(event.value.decode())
        return [Emit(output, event.value, rate if rate is not None else b"-")]

    return handle


def test_every_instance_holds_the_whole_table_before_processing_and_follows_updates(
    stack: StackEndpoints,
    create_topic: Callable[..., str],
    unique_name: Callable[[str], str],
    kafka_admin: AdminClient,
    tmp_path: Path,
) -> None:
    table = create_topic("fx-rates", TABLE_PARTITIONS, {"cleanup.policy": "compact"})
    source, output = create_topic("lookups", 2), create_topic("answers", 2)
    producer = Producer({"bootstrap.servers": stack.bootstrap_servers})
    for n in range(KEYS):
        producer.produce(table, f"old-{n}".encode(), key=f"K{n}".encode())
        producer.produce(table, f"rate-{n}".encode(), key=f"K{n}".encode())
    for n in range(0, KEYS, 10):
        producer.produce(table, None, key=f"K{n}".encode())  # erased
    for n in range(KEYS):  # the lookups are waiting before the service starts
        producer.produce(source, f"K{n}".encode(), key=f"K{n}".encode())
    assert producer.flush(30) == 0

    name = unique_name("lookup")
    service = Service(
        name=name,
        inputs=[Input(source, BytesCodec())],
        outputs=[Output(output, BytesCodec())],
        handler=_lookup(output),
        globals=[GlobalInput(table, BytesCodec(), "rates")],
    )
    settings = BusSettings(
        kafka=KafkaSettings(bootstrap_servers=stack.bootstrap_servers),
        schema_registry=SchemaRegistrySettings(url=stack.schema_registry_url),
        runtime=RuntimeSettings(state_dir=tmp_path, commit_interval_ms=50, state_backend="sqlite"),
    )

    def answers() -> dict[bytes, bytes]:
        return {m.key(): m.value() for m in read_all(stack.bootstrap_servers, output, 2)}

    with in_thread(build_runtime(service, settings)) as errors:
        assert wait_until(lambda: len(answers()) >= KEYS or errors, timeout=120)
        first = answers()
        producer.produce(table, b"rate-fresh", key=b"NEW")  # a new entry while the service runs
        assert producer.flush(30) == 0
        stale = True
        for _ in range(60):  # ask until the answer reflects it
            producer.produce(source, b"NEW", key=b"NEW")
            assert producer.flush(30) == 0
            if wait_until(lambda: answers().get(b"NEW") == b"rate-fresh", timeout=2):
                stale = False
                break
        final = answers()
    assert errors == []
    assert first == {
        f"K{n}".encode(): (b"-" if n % 10 == 0 else f"rate-{n}".encode()) for n in range(KEYS)
    }  # the first record already saw the whole table, with the erasures
    assert not stale
    assert final[b"NEW"] == b"rate-fresh"
    for future in kafka_admin.delete_topics([f"dlq.{name}"]).values():
        future.result(timeout=30)
