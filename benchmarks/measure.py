"""What every benchmark measures the same way: a run's result, a process's CPU, a group's progress."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

__all__ = ["Result", "committed", "cpu_seconds"]

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    mode: str
    records: int
    seconds: float
    cpu_seconds: float
    p50_ms: float | None = None
    p99_ms: float | None = None

    # A run that finishes between two progress samples has no measured window: no figure (nan).
    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else float("nan")

    @property
    def per_cpu(self) -> float:
        return self.records / self.cpu_seconds if self.cpu_seconds > 0 else float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def committed(bootstrap: str, group: str, topic: str, partitions: int) -> int:
    """Records of ``topic`` the consumer group has committed (the processed count)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        for attempt in range(20):
            try:
                tps = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
                return sum(max(tp.offset, 0) for tp in tps)
            except KafkaException as exc:
                # A broker started moments ago is still electing the group coordinator.
                if not exc.args[0].retriable() and exc.args[0].code() != KafkaError.NOT_COORDINATOR:
                    raise
                time.sleep(0.25 * (attempt + 1))
        raise TimeoutError(f"no group coordinator for {group} after 20 attempts")
    finally:
        consumer.close()
