"""On the three-node cluster, a broker killed mid-stream loses nothing: acks=all produce and consume go on."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from esb.devstack.components import KafkaNode
from esb.devstack.processes import port_is_open, wait_until
from tests.infra import StackEndpoints, local_stack_settings, provide_stack

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

_MESSAGES = 30_000


@pytest.fixture(scope="module")
def cluster() -> Iterator[StackEndpoints]:
    with provide_stack(brokers=3) as endpoints:
        yield endpoints


def _leader_of_partition_zero(admin: AdminClient, topic: str) -> int:
    """The node leading partition 0, once metadata has one (it lags topic creation briefly)."""
    leader = -1

    def has_leader() -> bool:
        nonlocal leader
        partitions = admin.list_topics(topic, timeout=10).topics[topic].partitions
        leader = partitions[0].leader if 0 in partitions else -1
        return leader >= 0

    assert wait_until(has_leader, 30), f"no leader for {topic}[0]"
    return leader


def test_killing_a_broker_mid_stream_loses_nothing(cluster: StackEndpoints) -> None:
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap_servers})
    topic = f"failover.{os.getpid()}.{int(time.time())}"
    admin.create_topics(
        [NewTopic(topic, num_partitions=3, replication_factor=3, config={"min.insync.replicas": "2"})]
    )[topic].result(timeout=30)

    received: Counter[int] = Counter()
    consumed_all = threading.Event()
    stop = threading.Event()

    def consume() -> None:
        consumer = Consumer(
            {
                "bootstrap.servers": cluster.bootstrap_servers,
                "group.id": f"{topic}.reader",
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
            }
        )
        consumer.subscribe([topic])
        try:
            while not stop.is_set():
                message: Message | None = consumer.poll(0.5)
                if message is None or message.error() is not None:
                    continue
                received[int(message.value())] += 1
                if len(received) == _MESSAGES:
                    consumed_all.set()
        finally:
            consumer.close()

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()

    failures: list[KafkaError] = []

    def on_delivery(error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            failures.append(error)

    producer = Producer(
        {
            "bootstrap.servers": cluster.bootstrap_servers,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
        }
    )
    settings = local_stack_settings(3)
    victim_id = _leader_of_partition_zero(admin, topic)
    victim = KafkaNode(settings, index=victim_id - 1, cluster_size=3)
    victim_pid = victim.managed().pid()
    assert victim_pid is not None

    try:
        for sequence in range(_MESSAGES):
            producer.produce(
                topic, key=str(sequence % 97).encode(), value=str(sequence).encode(), on_delivery=on_delivery
            )
            producer.poll(0)
            if sequence == _MESSAGES // 3:
                os.kill(victim_pid, signal.SIGKILL)
                assert wait_until(lambda: victim.managed().pid() is None, 15)
        assert producer.flush(120) == 0
        assert failures == []
        assert consumed_all.wait(120), f"consumed {len(received)} of {_MESSAGES}"
        # Partition 0 had to move to a surviving broker.
        assert _leader_of_partition_zero(admin, topic) != victim_id
    finally:
        stop.set()
        reader.join(30)
        # Bring the victim back so the cluster is whole for whatever runs next.
        if not victim.managed().is_running():
            victim.process().start()
            wait_until(lambda: port_is_open(settings.host, victim.ports["client"]), 60)

    assert set(received) == set(range(_MESSAGES))
    duplicates = {value: count for value, count in received.items() if count > 1}
    assert duplicates == {}
