"""What Kafka itself says: consumer lag per group (committed offsets vs high watermarks), and topic scans."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from bus.config import SchemaRegistrySettings
from bus.serde import registry_client

try:  # confluent-kafka >= 2.x
    from confluent_kafka import ConsumerGroupTopicPartitions
except ImportError:  # pragma: no cover
    from confluent_kafka.admin import ConsumerGroupTopicPartitions  # type: ignore[attr-defined,no-redef]

__all__ = ["KafkaView", "ScannedRecord"]


@dataclass(frozen=True, slots=True)
class ScannedRecord:
    topic: str
    key: str | None
    value: Any  # decoded Avro (dict) or raw bytes
    headers: dict[str, bytes]
    timestamp_ms: int


class KafkaView:
    """Read-only: never joins a group, never commits."""

    def __init__(self, bootstrap_servers: str, registry_url: str | None = None) -> None:
        self._config = {"bootstrap.servers": bootstrap_servers}
        self._admin = AdminClient(dict(self._config))
        self._registry = registry_client(SchemaRegistrySettings(url=registry_url)) if registry_url else None
        self._consumer: Consumer | None = None

    def _reader(self) -> Consumer:
        if self._consumer is None:
            self._consumer = Consumer(
                self._config
                | {
                    "group.id": "esb-status-reader",  # never subscribes or commits
                    "enable.auto.commit": False,
                    "isolation.level": "read_committed",
                }
            )
        return self._consumer

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None

    def topics(self) -> dict[str, int]:
        metadata = self._admin.list_topics(timeout=10)
        return {name: len(topic.partitions) for name, topic in metadata.topics.items()}

    def lag(self, group: str) -> int | None:
        """Sum over the group's partitions of high watermark - committed offset; None if unknown."""
        try:
            futures = self._admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])
            result = futures[group].result(timeout=10)
        except KafkaException:
            return None
        partitions = [tp for tp in (result.topic_partitions or []) if tp.offset >= 0]
        if not partitions:
            return None
        total = 0
        try:
            for tp in partitions:
                _, high = self._reader().get_watermark_offsets(
                    TopicPartition(tp.topic, tp.partition), timeout=5
                )
                total += max(0, high - tp.offset)
        except KafkaException:
            return None  # the broker went away mid-way: unknown, not zero
        return total

    def scan(
        self,
        topic: str,
        *,
        since_ms: int | None = None,
        decode: bool = True,
        idle_timeout_s: float = 2.0,
    ) -> Iterator[ScannedRecord]:
        """Every record from ``since_ms`` (or the beginning) to the current end of each partition."""
        partitions = self.topics().get(topic)
        if not partitions:
            return
        reader = self._reader()
        starts = [
            TopicPartition(topic, p, since_ms if since_ms is not None else 0) for p in range(partitions)
        ]
        if since_ms is not None:
            starts = reader.offsets_for_times(starts, timeout=10)
        assignment: list[TopicPartition] = []
        ends: dict[int, int] = {}
        for tp in starts:
            low, high = reader.get_watermark_offsets(TopicPartition(topic, tp.partition), timeout=5)
            start = low if since_ms is None or tp.offset < 0 else max(tp.offset, low)
            if since_ms is not None and tp.offset < 0:
                start = high  # nothing newer than since_ms
            if start < high:
                assignment.append(TopicPartition(topic, tp.partition, start))
                ends[tp.partition] = high
        if not assignment:
            return
        reader.assign(assignment)
        deserializer = AvroDeserializer(self._registry) if decode and self._registry else None
        try:
            while ends:
                batch: Sequence[Message] = reader.consume(500, timeout=idle_timeout_s)
                if not batch:
                    break
                for message in batch:
                    if message.error():
                        continue
                    partition = message.partition()
                    offset = message.offset()
                    assert partition is not None
                    assert offset is not None
                    if partition in ends and offset + 1 >= ends[partition]:
                        del ends[partition]
                    yield self._record(message, deserializer)
        finally:
            reader.unassign()

    def _record(
        self,
        message: Message,
        deserializer: AvroDeserializer | None,
    ) -> ScannedRecord:
        raw = message.value()
        value: Any = raw
        topic = message.topic() or ""
        if deserializer is not None and raw and raw[:1] == b"\x00":
            try:
                value = deserializer(raw, SerializationContext(topic, MessageField.VALUE))
            except Exception:
                value = raw
        key = message.key()
        headers: dict[str, bytes] = {}
        for item in message.headers() or []:
            name, header = item[0], item[1]
            headers[str(name)] = header if isinstance(header, bytes) else str(header or "").encode()
        return ScannedRecord(
            topic=topic,
            key=key.decode("utf-8", "replace") if isinstance(key, bytes) else None,
            value=value,
            headers=headers,
            timestamp_ms=message.timestamp()[1],
        )
