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
- ``group.instance.id`` (static membership) is the replica's member name and a digest of the topics
  it subscribes to (:func:`static_member`): see there why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = ["ASSIGNMENT_STRATEGY", "PARTITIONER", "consumer_config", "producer_config", "static_member"]

PARTITIONER: Final = "murmur2_random"
ASSIGNMENT_STRATEGY: Final = "range"


def static_member(member: str, topics: Iterable[str]) -> str:
    """The consumer's ``group.instance.id``: ``member`` (the replica) and a digest of its subscription.

    Under the classic group protocol a static member that rejoins a stable group under a new member
    id (a restarted process) is handed its previous assignment without a rebalance, even when it now
    subscribes to other topics (KAFKA-12759): the Java consumer notices the foreign partitions and
    rejoins, librdkafka consumes them. A replica whose inputs changed (a new topic version) would
    then read the old topics, and never the new ones, until the group stayed empty for
    ``session.timeout.ms``. With the subscription in the id it joins as a new member, the group
    rebalances, and the old member's partitions move once its session times out. An unchanged
    subscription keeps the id, so restarts keep their partitions without a rebalance (the first
    start of a version that changes the id's form waits out the old members' sessions once).
    """
    digest = hashlib.sha256("\n".join(sorted(set(topics))).encode()).hexdigest()[:8]
    return f"{member}.{digest}"


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
