"""Read a whole topic, every partition from the beginning to its current end (tools, not services).

Used by `esb dlq`, the audit trail and the projector's back-fill; partitions are assigned (no group
membership, nothing committed), though librdkafka still wants a ``group.id`` to look up a
coordinator.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Message, TopicPartition

__all__ = ["iter_to_end", "read_to_end"]


def read_to_end(
    client_config: Mapping[str, str], topic: str, group_id: str, timeout_s: float = 30.0
) -> list[Message]:
    """Every committed record of ``topic``, oldest first per partition (:func:`iter_to_end`)."""
    return list(iter_to_end(client_config, topic, group_id, timeout_s))


def iter_to_end(
    client_config: Mapping[str, str], topic: str, group_id: str, timeout_s: float = 30.0
) -> Iterator[Message]:
    """Every committed record of ``topic`` as it is read, oldest first per partition (nothing held:
    for topics larger than memory).

    LookupError if the topic does not exist; KafkaException for any other metadata error;
    TimeoutError when the end is not reached within ``timeout_s``.
    """
    consumer = Consumer(
        {
            **client_config,
            "group.id": group_id,
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if metadata is None or (
            metadata.error is not None and metadata.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART
        ):
            raise LookupError(f"no topic {topic}")
        if metadata.error is not None:  # e.g. TOPIC_AUTHORIZATION_FAILED: the caller must see it
            raise KafkaException(metadata.error)
        partitions = sorted(metadata.partitions)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        remaining = set(partitions)
        deadline = time.monotonic() + timeout_s
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f"did not reach the end of {topic}")
            for message in consumer.consume(1000, timeout=0.5):
                error = message.error()
                if error is None:
                    yield message
                elif error.code() == KafkaError._PARTITION_EOF:
                    remaining.discard(message.partition())
                else:
                    raise KafkaException(error)
    finally:
        consumer.close()
