"""Exactly-once under kill -9: every output once, totals equal the fold, state restored."""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.serialization import MessageField, SerializationContext

from bus.config import StateBackend
from bus.state.backends import open_backend
from bus.state.restore import RestoreTarget, restore
from bus.state.store import StorePartition, decode_value
from tests.infra import StackEndpoints
from tests.integration.runtime.harness import (
    AmountFeed,
    ServiceProcess,
    committed_total,
    read_all,
    running,
    service_env,
    total_decoder,
    wait_until,
)

pytestmark = pytest.mark.integration

EVENTS = 50_000
PARTITIONS = 6
KILLS = 5


def _topics(create_topic: Callable[..., str]) -> tuple[str, str]:
    return create_topic("amounts", PARTITIONS), create_topic("totals", PARTITIONS)


def _verify(stack: StackEndpoints, feed: AmountFeed, service: str, output: str, tmp: Path) -> None:
    decode = total_decoder(stack)
    records = read_all(stack.bootstrap_servers, output, PARTITIONS, timeout=120)
    totals = [decode(m.value(), SerializationContext(output, MessageField.VALUE)) for m in records]

    # Every expected output exactly once.
    seen = Counter(total["event_id"] for total in totals)
    duplicates = {event_id: n for event_id, n in seen.items() if n > 1}
    assert not duplicates, f"{len(duplicates)} outputs duplicated, e.g. {list(duplicates.items())[:3]}"
    assert set(seen) == {amount.event_id for amount in feed.sent}

    # Each account's outputs are the running fold of its inputs, in input order.
    expected: dict[str, list[tuple[str, int]]] = defaultdict(list)
    running_total: dict[str, int] = defaultdict(int)
    for amount in feed.sent:
        running_total[amount.account] += amount.amount
        expected[amount.account].append((amount.event_id, running_total[amount.account]))
    actual: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for total in totals:
        actual[total["account"]].append((total["event_id"], total["total"]))
    assert actual == expected

    # The state restored from the changelog into an empty store equals the fold.
    restored: dict[str, Any] = {}
    for partition in range(PARTITIONS):
        store = StorePartition(
            "totals", partition, open_backend(StateBackend.SQLITE, tmp / "check" / str(partition))
        )
        restore(
            {"bootstrap.servers": stack.bootstrap_servers},
            "crash-check",
            [RestoreTarget(store, f"{service}.totals.changelog")],
            timeout_s=60,
        )
        for account in running_total:
            raw = store.backend.get(account.encode())
            if raw is not None:
                restored[account] = decode_value(raw)[0]["total"]
        store.close()
    assert restored == dict(running_total)


def _await_done(stack: StackEndpoints, service: str, topic: str, processes: list[ServiceProcess]) -> None:
    def done() -> bool:
        assert all(p.alive for p in processes), "a service instance died on its own"
        return committed_total(stack.bootstrap_servers, service, topic, PARTITIONS) >= EVENTS

    assert wait_until(done, timeout=240, interval=1.0), "the service did not finish the input"


def test_kill9_single_instance(
    stack: StackEndpoints, create_topic: Callable[..., str], unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    source, output = _topics(create_topic)
    service = unique_name("rt")
    if True:
        tmp = tmp_path
        env = service_env(
            stack,
            tmp / "state",
            RUNNING_TOTAL_SERVICE_NAME=service,
            RUNNING_TOTAL_INPUT_TOPIC=source,
            RUNNING_TOTAL_OUTPUT_TOPIC=output,
            ESB_INSTANCE_ID="0",
        )
        process = ServiceProcess("services.examples.running_total", env, tmp / "service.log")
        feed = AmountFeed(stack, source)
        rng = random.Random(11)
        with running([process]):
            process.start()
            feeder = feed.send_paced(EVENTS, seconds=20)
            for _ in range(KILLS):
                time.sleep(rng.uniform(2.0, 5.0))
                process.kill()
                process.start()
            feeder.join(120)
            _await_done(stack, service, source, [process])
            assert process.stop() == 0
        assert process.kills >= KILLS
        _verify(stack, feed, service, output, tmp)


def test_kill9_two_instances_with_rebalance(
    stack: StackEndpoints, create_topic: Callable[..., str], unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    source, output = _topics(create_topic)
    service = unique_name("rt2")
    if True:
        tmp = tmp_path
        common = {
            "RUNNING_TOTAL_SERVICE_NAME": service,
            "RUNNING_TOTAL_INPUT_TOPIC": source,
            "RUNNING_TOTAL_OUTPUT_TOPIC": output,
        }
        instances = [
            ServiceProcess(
                "services.examples.running_total",
                service_env(stack, tmp / "state", ESB_INSTANCE_ID=str(i), **common),
                tmp / f"service-{i}.log",
            )
            for i in range(2)
        ]
        feed = AmountFeed(stack, source)
        rng = random.Random(13)
        with running(instances):
            instances[0].start()
            feeder = feed.send_paced(EVENTS, seconds=25)
            time.sleep(3)
            instances[1].start()  # joins mid-run: the group rebalances, instance 0 commits on revoke
            rebalanced = wait_until(
                lambda: (
                    '"revoked"' in (tmp / "service-0.log").read_text()
                    and '"assigned"' in (tmp / "service-1.log").read_text()
                ),
                timeout=60,
                interval=0.2,
            )
            assert rebalanced, "the second instance never got partitions"
            for kill in range(KILLS):
                time.sleep(rng.uniform(1.5, 4.0))
                victim = instances[kill % 2] if kill < 4 else rng.choice(instances)
                victim.kill()
                victim.start()
            feeder.join(120)
            _await_done(stack, service, source, instances)
            assert [p.stop() for p in instances] == [0, 0]
        assert sum(p.kills for p in instances) >= KILLS
        assert all(p.kills >= 2 for p in instances)
        _verify(stack, feed, service, output, tmp)
