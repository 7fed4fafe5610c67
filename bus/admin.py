"""Topics the runtime owns: each store's compacted changelog and the service's DLQ."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import timedelta

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from bus.errors import FatalError
from bus.service import Service

__all__ = ["create_topics", "ensure_dlq_topic", "ensure_runtime_topics", "input_partitions"]


def input_partitions(admin: AdminClient, service: Service, wait_s: float = 30.0) -> int:
    """Partition count shared by all inputs (stores are partitioned like them).

    Waits up to ``wait_s`` for inputs to appear: a topic just created elsewhere reaches the
    broker's metadata a moment later.
    """
    deadline = time.monotonic() + wait_s
    while True:
        metadata = admin.list_topics(timeout=30)
        counts: dict[str, int] = {}
        missing: list[str] = []
        for spec in service.inputs:
            topic = metadata.topics.get(spec.topic)
            if topic is None or topic.error is not None or not topic.partitions:
                missing.append(spec.topic)
            else:
                counts[spec.topic] = len(topic.partitions)
        if not missing:
            break
        if time.monotonic() > deadline:
            raise FatalError(f"input topics {missing} do not exist")
        time.sleep(0.5)
    if service.stores and len(set(counts.values())) > 1:
        raise FatalError(f"a stateful service needs co-partitioned inputs, got {counts}")
    return max(counts.values())


def ensure_runtime_topics(client_config: Mapping[str, str], service: Service) -> None:
    admin = AdminClient(dict(client_config))
    partitions = input_partitions(admin, service)
    wanted = [NewTopic(service.dlq_topic, num_partitions=1, replication_factor=-1)]
    wanted += [
        NewTopic(
            service.changelog_topic(store.name),
            num_partitions=partitions,
            replication_factor=-1,
            config=_changelog_config(store.ttl),
        )
        for store in service.stores
    ]
    create_topics(admin, wanted)


def ensure_dlq_topic(client_config: Mapping[str, str], topic: str) -> None:
    """The dead-letter topic of a sink (or of anything else that dead-letters)."""
    create_topics(
        AdminClient(dict(client_config)), [NewTopic(topic, num_partitions=1, replication_factor=-1)]
    )


def create_topics(admin: AdminClient, wanted: list[NewTopic]) -> None:
    """Create ``wanted``; topics that already exist are left as they are."""
    for name, future in admin.create_topics(wanted).items():
        try:
            future.result(timeout=30)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise FatalError(f"cannot create {name}: {exc}") from exc
    _wait_for_leaders(admin, [topic.topic for topic in wanted])


def _wait_for_leaders(admin: AdminClient, topics: list[str], timeout_s: float = 30.0) -> None:
    """Creation returns before every broker knows the new partitions' leaders; reading watermarks
    (state restore) or producing right away would then fail with UNKNOWN_TOPIC_OR_PART."""
    deadline = time.monotonic() + timeout_s
    pending = set(topics)
    while pending:
        metadata = admin.list_topics(timeout=10).topics
        pending = {
            name
            for name in pending
            if name not in metadata
            or metadata[name].error is not None
            or not metadata[name].partitions
            or any(p.leader < 0 for p in metadata[name].partitions.values())
        }
        if not pending:
            return
        if time.monotonic() > deadline:
            raise FatalError(f"no partition leaders for {sorted(pending)} after {timeout_s:.0f} s")
        time.sleep(0.2)


def _changelog_config(ttl: timedelta | None) -> dict[str, str]:
    """Compacted; a TTL store's changelog also drops segments older than the TTL, so entries
    that expired are not restored and the topic does not grow with every key ever seen."""
    if ttl is None:
        return {"cleanup.policy": "compact"}
    return {"cleanup.policy": "compact,delete", "retention.ms": str(int(ttl.total_seconds() * 1000))}
