"""Compare the catalog with a cluster and apply it idempotently (create, add partitions, set configs).

What cannot be applied safely is reported, never forced: fewer partitions than the cluster has
(Kafka cannot shrink a topic) and a different replication factor (needs a reassignment plan).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

# confluent-kafka documents these under confluent_kafka.admin but only re-exports them implicitly,
# which mypy --strict rejects; import them from where they are defined.
from confluent_kafka.admin._config import AlterConfigOpType, ConfigEntry, ConfigResource
from confluent_kafka.admin._resource import ResourceType
from confluent_kafka.cimpl import NewPartitions, NewTopic

from esb.governance.catalog import Catalog, TopicSpec

__all__ = ["TopicState", "TopicStatus", "apply_catalog", "compare_catalog"]

_TIMEOUT_S = 30.0


class TopicStatus(StrEnum):
    OK = "ok"
    MISSING = "missing"
    DRIFT = "drift"  # fixable by apply: more partitions, config values
    CONFLICT = "conflict"  # not fixable by apply: fewer partitions, other replication factor


@dataclass(slots=True)
class TopicState:
    spec: TopicSpec
    partitions: int
    replication_factor: int
    actual_partitions: int | None = None
    actual_replication: int | None = None
    config_changes: dict[str, str] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)

    @property
    def status(self) -> TopicStatus:
        if self.actual_partitions is None:
            return TopicStatus.MISSING
        if self.conflicts:
            return TopicStatus.CONFLICT
        if self.config_changes or self.actual_partitions < self.partitions:
            return TopicStatus.DRIFT
        return TopicStatus.OK


def _describe_configs(admin: AdminClient, names: list[str]) -> dict[str, dict[str, str]]:
    if not names:
        return {}
    resources = [ConfigResource(ResourceType.TOPIC, name) for name in names]
    futures = admin.describe_configs(resources)
    return {
        resource.name: {key: entry.value for key, entry in future.result(timeout=_TIMEOUT_S).items()}
        for resource, future in futures.items()
    }


def compare_catalog(admin: AdminClient, catalog: Catalog) -> list[TopicState]:
    """The state of every catalog topic on the cluster."""
    metadata = admin.list_topics(timeout=_TIMEOUT_S)
    existing = [t.name for t in catalog.topics if t.name in metadata.topics]
    configs = _describe_configs(admin, existing)
    states = []
    for spec in catalog.topics:
        state = TopicState(spec, catalog.partitions(spec), catalog.replication_factor(spec))
        topic = metadata.topics.get(spec.name)
        if topic is not None:
            state.actual_partitions = len(topic.partitions)
            state.actual_replication = min((len(p.replicas) for p in topic.partitions.values()), default=0)
            if state.actual_partitions > state.partitions:
                state.conflicts.append(
                    f"has {state.actual_partitions} partitions, catalog {state.partitions}"
                )
            if state.actual_replication != state.replication_factor:
                state.conflicts.append(
                    f"replication {state.actual_replication}, catalog {state.replication_factor}"
                )
            actual = configs.get(spec.name, {})
            state.config_changes = {
                key: value for key, value in catalog.topic_config(spec).items() if actual.get(key) != value
            }
        states.append(state)
    return states


def apply_catalog(admin: AdminClient, catalog: Catalog) -> list[TopicState]:
    """Create missing topics, add partitions and set drifted configs; returns the states found before.

    Raises ``ValueError`` before changing anything when the cluster has fewer brokers than a
    replication factor asks for (override it with ``Catalog.for_environment``).
    """
    brokers = len(admin.list_topics(timeout=_TIMEOUT_S).brokers)
    too_wide = [t.name for t in catalog.topics if catalog.replication_factor(t) > brokers]
    if too_wide:
        raise ValueError(
            f"{len(too_wide)} topics need more than the cluster's {brokers} brokers: {too_wide[:3]}"
        )
    states = compare_catalog(admin, catalog)
    _create(admin, [s for s in states if s.status is TopicStatus.MISSING], catalog)
    grow = [s for s in states if s.actual_partitions is not None and s.actual_partitions < s.partitions]
    if grow:
        futures = admin.create_partitions([NewPartitions(s.spec.name, s.partitions) for s in grow])
        for future in futures.values():
            future.result(timeout=_TIMEOUT_S)
    altered = [s for s in states if s.config_changes]
    if altered:
        resources = [
            ConfigResource(
                ResourceType.TOPIC,
                s.spec.name,
                incremental_configs=[
                    ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)
                    for key, value in s.config_changes.items()
                ],
            )
            for s in altered
        ]
        for future in admin.incremental_alter_configs(resources).values():
            future.result(timeout=_TIMEOUT_S)
    return states


def _create(admin: AdminClient, missing: list[TopicState], catalog: Catalog) -> None:
    if not missing:
        return
    new_topics = [
        NewTopic(
            s.spec.name,
            num_partitions=s.partitions,
            replication_factor=s.replication_factor,
            config=catalog.topic_config(s.spec),
        )
        for s in missing
    ]
    for future in admin.create_topics(new_topics, operation_timeout=_TIMEOUT_S).values():
        try:
            future.result(timeout=_TIMEOUT_S)
        except KafkaException as error:
            # Created concurrently or not yet in the metadata we read: the next run compares configs.
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
