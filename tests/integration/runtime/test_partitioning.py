"""Keys land where the Java client puts them; a stateful service refuses inputs not co-partitioned."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from bus.admin import input_partitions
from bus.clients import producer_config
from bus.errors import FatalError
from bus.serde import BytesCodec
from bus.service import Input, Service, StoreSpec
from tests.infra import StackEndpoints
from tests.integration.runtime.harness import read_all

pytestmark = pytest.mark.integration

PARTITIONS = 7


def _java_murmur2(data: bytes) -> int:
    """``org.apache.kafka.common.utils.Utils.murmur2`` (seed 0x9747b28c)."""
    m, r, mask = 0x5BD1E995, 24, 0xFFFFFFFF
    length = len(data)
    h = (0x9747B28C ^ length) & mask
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * m) & mask
        k ^= k >> r
        k = (k * m) & mask
        h = (h * m) & mask
        h ^= k
    tail = length % 4
    base = length - tail
    if tail == 3:
        h ^= data[base + 2] << 16
    if tail >= 2:
        h ^= data[base + 1] << 8
    if tail >= 1:
        h ^= data[base]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h


def _java_partition(key: bytes, partitions: int) -> int:
    return (_java_murmur2(key) & 0x7FFFFFFF) % partitions


def test_the_runtimes_producers_partition_keys_like_the_java_client(
    stack: StackEndpoints, create_topic: Callable[..., str]
) -> None:
    topic = create_topic("keys", PARTITIONS)
    keys = [f"order-{n}".encode() for n in range(60)] + [b"", b"a", b"ab", b"abc"]
    producer = Producer(producer_config({"bootstrap.servers": stack.bootstrap_servers}))
    for key in keys:
        producer.produce(topic, b"v", key=key)
    assert producer.flush(30) == 0

    placed = {m.key(): m.partition() for m in read_all(stack.bootstrap_servers, topic, PARTITIONS)}
    assert len(placed) == len(keys)
    assert placed == {key: _java_partition(key, PARTITIONS) for key in keys}
    assert len(set(placed.values())) == PARTITIONS  # the check is not vacuous


def test_a_stateful_service_refuses_inputs_with_different_partition_counts(
    stack: StackEndpoints, create_topic: Callable[..., str], kafka_admin: AdminClient
) -> None:
    four, six = create_topic("orders", 4), create_topic("levels", 6)
    inputs = [Input(four, BytesCodec()), Input(six, BytesCodec())]

    def service(stores: list[StoreSpec]) -> Service:
        return Service(name="co", inputs=inputs, outputs=[], handler=lambda e, c: [], stores=stores)

    with pytest.raises(FatalError, match="co-partitioned"):
        input_partitions(kafka_admin, service([StoreSpec("s")]))
    assert input_partitions(kafka_admin, service([])) == 6  # stateless: no such constraint
