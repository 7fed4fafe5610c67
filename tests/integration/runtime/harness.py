"""Drive example services as real processes against the real broker, and read what they wrote."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from bus.runtime import Runtime
from bus.service import Context, Emit, Event, Outgoing
from services.examples.running_total.models import AMOUNT_SCHEMA, TOTAL_SCHEMA, Amount
from tests.infra import REGISTRY_TIMEOUT_S, REPO_ROOT, StackEndpoints

__all__ = [
    "AmountFeed",
    "ServiceProcess",
    "committed_total",
    "read_all",
    "running",
    "service_env",
    "total_decoder",
    "wait_until",
]


@dataclass
class AmountFeed:
    """Amount records produced to the input topic; remembers what it sent."""

    stack: StackEndpoints
    topic: str
    accounts: int = 200
    seed: int = 7
    sent: list[Amount] = field(default_factory=list)
    poison: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        registry = SchemaRegistryClient(
            {"url": self.stack.schema_registry_url, "timeout": REGISTRY_TIMEOUT_S}
        )
        self._serialize = AvroSerializer(registry, AMOUNT_SCHEMA, lambda value, _ctx: value.model_dump())
        self._producer = Producer(
            {"bootstrap.servers": self.stack.bootstrap_servers, "linger.ms": 20, "enable.idempotence": True}
        )
        self._rng = random.Random(self.seed)

    def amount(self, account: str | None = None, value: int | None = None) -> Amount:
        return Amount(
            event_id=str(uuid.uuid4()),
            account=account or f"acct-{self._rng.randrange(self.accounts):04d}",
            amount=value if value is not None else self._rng.randint(1, 100),
            occurred_at=datetime.now(UTC),
        )

    def send(self, amount: Amount, headers: list[tuple[str, bytes]] | None = None) -> None:
        context = SerializationContext(self.topic, MessageField.VALUE)
        self._produce(amount.account.encode(), self._serialize(amount, context), headers)
        self.sent.append(amount)

    def send_raw(self, key: bytes, value: bytes) -> None:
        self._produce(key, value)
        self.poison.append(value)

    def _produce(
        self, key: bytes, value: bytes | None, headers: list[tuple[str, bytes]] | None = None
    ) -> None:
        while True:
            try:
                self._producer.produce(self.topic, value, key=key, headers=headers)
                return
            except BufferError:
                self._producer.poll(0.05)

    def flush(self) -> None:
        assert self._producer.flush(30) == 0

    def send_paced(self, count: int, seconds: float) -> threading.Thread:
        """Send ``count`` random amounts spread over ``seconds`` from a background thread."""

        def run() -> None:
            chunk = max(count // 50, 1)
            pause = seconds / 50
            for start in range(0, count, chunk):
                for _ in range(min(chunk, count - start)):
                    self.send(self.amount())
                self._producer.poll(0)
                time.sleep(pause)
            self.flush()

        thread = threading.Thread(target=run, name="amount-feed", daemon=True)
        thread.start()
        return thread


def service_env(stack: StackEndpoints, state_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ESB_", "RUNNING_TOTAL_"))}
    env.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
            "SCHEMA_REGISTRY_URL": stack.schema_registry_url,
            "SCHEMA_REGISTRY_AUTO_REGISTER": "true",
            "ESB_STATE_DIR": str(state_dir),
            "ESB_LOG_LEVEL": "INFO",
            "ESB_SESSION_TIMEOUT_MS": "10000",
            "ESB_TRANSACTION_TIMEOUT_MS": "20000",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


class ServiceProcess:
    """One instance of a service run as ``python -m <module>``; killable with SIGKILL."""

    def __init__(self, module: str, env: Mapping[str, str], log_path: Path) -> None:
        self._module = module
        self._env = dict(env)
        self._log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0

    def start(self) -> None:
        assert self._proc is None or self._proc.poll() is not None
        log = self._log_path.open("ab")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", self._module], env=self._env, cwd=REPO_ROOT, stdout=log, stderr=log
        )
        log.close()
        self.starts += 1

    def kill(self) -> None:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGKILL)
        self._proc.wait(10)
        self.kills += 1

    def stop(self, timeout: float = 30) -> int:
        if self._proc is None or self._proc.poll() is not None:
            return self._proc.returncode if self._proc else 0
        self._proc.send_signal(signal.SIGTERM)
        try:
            return self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(10)
            raise

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None


@contextmanager
def running(processes: list[ServiceProcess]) -> Iterator[None]:
    """Make sure no process outlives the test, whatever happens."""
    try:
        yield
    finally:
        for process in processes:
            if process.alive:
                process.kill()


@contextmanager
def in_thread(runtime: Runtime) -> Iterator[list[BaseException]]:
    """Run ``runtime`` on a thread for the block; yields the errors it raised (checked by the caller).

    On exit the runtime is asked to stop and joined, whatever the block did."""
    stop, errors = threading.Event(), []

    def run() -> None:
        try:
            runtime.run(stop)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield errors
    finally:
        stop.set()
        thread.join(60)


def read_all(bootstrap: str, topic: str, partitions: int, timeout: float = 60.0) -> list[Any]:
    """Every committed record of ``topic`` (read_committed), partition by partition in order."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
        }
    )
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    remaining = set(range(partitions))
    records: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while remaining and time.monotonic() < deadline:
            for message in consumer.consume(10_000, timeout=0.5):
                error = message.error()
                if error is not None:
                    assert error.code() == KafkaError._PARTITION_EOF, error
                    remaining.discard(message.partition())
                    continue
                records.append(message)
    finally:
        consumer.close()
    assert not remaining, f"did not reach the end of {topic} partitions {remaining}"
    return records


def total_decoder(stack: StackEndpoints) -> Any:
    registry = SchemaRegistryClient({"url": stack.schema_registry_url, "timeout": REGISTRY_TIMEOUT_S})
    return AvroDeserializer(registry, TOTAL_SCHEMA)


def wait_until(predicate: Any, timeout: float, interval: float = 1.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def committed_total(bootstrap: str, group: str, topic: str, partitions: int) -> int:
    """Sum of the group's committed offsets on ``topic`` (records it has finished with)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        offsets = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
        return sum(max(tp.offset, 0) for tp in offsets)
    finally:
        consumer.close()


def copy_handler(output: str) -> Callable[[Event[Any], Context], Sequence[Outgoing]]:
    """A handler writing each input record unchanged to ``output`` (the runtime's plumbing only)."""

    def handle(event: Event[Any], ctx: Context) -> Sequence[Outgoing]:
        return [Emit(output, event.key, event.value)]

    return handle
