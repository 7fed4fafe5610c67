"""librdkafka settings of the runtime's clients, with the two that keep keys and partitions aligned.

- ``partitioner = murmur2_random``: librdkafka's default (``consistent_random``, CRC32) puts a
  key on a different partition than the Java client's default partitioner (murmur2). The bus is
  shared with Java/Kafka Streams producers and consumers (connect, ksqlDB, the ERP teams' apps),
  and stateful services rely on a key landing on the same partition number in every topic,
  whoever wrote it, so every producer the runtime creates hashes keys like Java does
  (records without a key still go to a random partition).
- ``partition.assignment.strategy = range``: a stateful service with several inputs keeps one
  store partition per input partition number, so partition *n* of every input must be assigned
  to the same instance. The range assignor does that for co-partitioned topics (it assigns each
  topic's partitions in order over the same sorted members); round-robin and sticky do not.
  librdkafka's default list (``range,roundrobin``) could negotiate round-robin with a member
  configured differently; pinning it makes co-partitioning a property of the runtime. The
  startup check (:func:`bus.admin.input_partitions`) refuses inputs with different partition
  counts for a stateful service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["ASSIGNMENT_STRATEGY", "PARTITIONER", "consumer_config", "producer_config"]

PARTITIONER: Final = "murmur2_random"
ASSIGNMENT_STRATEGY: Final = "range"


def consumer_config(
    client: Mapping[str, Any],
    *,
    client_id: str,
    group: str,
    member: str,
    session_timeout_ms: int,
    max_poll_interval_ms: int,
) -> dict[str, Any]:
    return {
        **client,
        "client.id": client_id,
        "group.id": group,
        "group.instance.id": member,
        "partition.assignment.strategy": ASSIGNMENT_STRATEGY,
        "isolation.level": "read_committed",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": session_timeout_ms,
        "max.poll.interval.ms": max_poll_interval_ms,
    }


def producer_config(client: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Idempotent, ``acks=all``, Java-compatible partitioner; ``overrides`` on top."""
    return {
        **client,
        "enable.idempotence": True,
        "acks": "all",
        "partitioner": PARTITIONER,
        **(overrides or {}),
    }
