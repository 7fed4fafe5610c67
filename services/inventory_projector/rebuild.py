"""``esb rebuild inventory-projector``: recompute every level from the retained input topics.

Run with every instance stopped. Steps:

1. Refuse unless the consumer group empties within the timeout (a running instance would keep
   its state; a stopped static member leaves when its session times out).
2. Delete the store changelog topics and wait until the broker has dropped them; recreate them
   empty (compacted, one partition per input partition). A local snapshot then belongs to another
   history and the runtime clears it on restore; ``--wipe-local`` also removes this host's copy.
3. Rewind the group: the input topics (``canonical.stock-movements.v2`` and
   ``canonical.reservations.v2``, keyed by SKU) to their earliest retained offset; topics in
   ``rewind_to_end`` (none for the projector) to their end instead.
4. Start the service: it folds everything again and republishes every level. Levels are keyed by
   position and carry deterministic event ids (position + revision), so the compacted topic ends
   with the same values; alerts are raised again.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import typer
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from bus.config import BusSettings
from bus.service import Service
from services.inventory_projector.handler import build_service
from services.inventory_projector.settings import ProjectorSettings

__all__ = ["RebuildError", "command", "rebuild"]


class RebuildError(Exception):
    """The rebuild cannot start safely; nothing was changed, or the message says what was."""


def _partitions(consumer: Consumer, topic: str) -> int:
    metadata = consumer.list_topics(topic, timeout=30)
    found = metadata.topics.get(topic)
    if found is None or found.error is not None or not found.partitions:
        raise RebuildError(f"topic {topic} does not exist")
    return len(found.partitions)


def rebuild(
    service: Service, bus: BusSettings, rewind_to_end: frozenset[str], timeout_s: float = 60.0
) -> dict[str, int]:
    """Reset ``service`` so that its next start recomputes everything; returns offsets per topic."""
    client = bus.kafka.client_config()
    admin = AdminClient(dict(client))
    group = bus.runtime.group_of(service.name)
    # Static members (group.instance.id) stay listed until their session times out after a stop.
    deadline = time.monotonic() + timeout_s
    while members := admin.describe_consumer_groups([group])[group].result(timeout=30).members:
        if time.monotonic() > deadline:
            raise RebuildError(f"consumer group {group} has {len(members)} active member(s): stop them")
        time.sleep(1.0)

    consumer = Consumer({**client, "group.id": f"{group}.rebuild", "enable.auto.commit": False})
    try:
        inputs = [spec.topic for spec in service.inputs]
        partitions = _partitions(consumer, inputs[0])
        changelogs = [service.changelog_topic(store.name) for store in service.stores]
        existing = set(admin.list_topics(timeout=30).topics)
        doomed = [topic for topic in changelogs if topic in existing]
        if doomed:
            for future in admin.delete_topics(doomed).values():
                future.result(timeout=timeout_s)
            deadline = time.monotonic() + timeout_s
            while set(doomed) & set(admin.list_topics(timeout=30).topics):
                if time.monotonic() > deadline:
                    raise RebuildError(f"changelog topics {doomed} deleted but still listed")
                time.sleep(0.5)
        compact = {"cleanup.policy": "compact"}
        fresh = [NewTopic(t, partitions, replication_factor=-1, config=compact) for t in changelogs]
        for future in admin.create_topics(fresh).values():
            future.result(timeout=timeout_s)

        offsets: list[TopicPartition] = []
        summary: dict[str, int] = {}
        for topic in inputs:
            summary[topic] = 0
            for partition in range(_partitions(consumer, topic)):
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=30)
                offset = high if topic in rewind_to_end else low
                offsets.append(TopicPartition(topic, partition, offset))
                summary[topic] += high - offset
        result = admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, offsets)])
        result[group].result(timeout=timeout_s)
        return summary
    finally:
        consumer.close()


def command(
    service: str = typer.Argument(..., help="the service to rebuild, e.g. inventory-projector"),
    wipe_local: bool = typer.Option(False, help="also delete this host's state directory of the service"),
) -> None:
    """Recompute a stateful service's state from its retained input topics (stop it first)."""
    settings = ProjectorSettings()
    if service != settings.service_name:
        raise typer.BadParameter(f"no rebuild for {service!r}; known: {settings.service_name}")
    bus = BusSettings()
    built = build_service(settings)
    try:
        summary = rebuild(built, bus, frozenset())
    except RebuildError as exc:
        typer.echo(f"rebuild refused: {exc}", err=True)
        raise typer.Exit(1) from exc
    if wipe_local:
        local = Path(bus.runtime.state_dir) / bus.runtime.instance_id / built.name
        shutil.rmtree(local, ignore_errors=True)
    for topic, pending in summary.items():
        typer.echo(f"{topic}: {pending} records to reprocess")
    typer.echo(f"{built.name} reset: start it to rebuild")
