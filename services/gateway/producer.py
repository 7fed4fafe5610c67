"""Produce one record and await the broker's acknowledgement from asyncio.

librdkafka already does the network I/O on its own threads; ``produce()`` only enqueues. A dedicated
thread serves delivery reports (``poll``) and hands each one to the event loop, where it resolves
the request's future. confluent-kafka's own ``aio.AIOProducer`` was not used: it buffers records
until a batch fills or ``buffer_timeout`` of *inactivity* passes, which puts seconds of latency on a
lone webhook, and it serves delivery reports only when something polls it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from confluent_kafka import KafkaError, KafkaException, Message, Producer

__all__ = ["BrokerUnavailableError", "Delivered", "IngressProducer", "Publisher", "producer_config"]


class BrokerUnavailableError(Exception):
    """The record was not acknowledged: answer 503 so the provider retries later."""


@dataclass(frozen=True, slots=True)
class Delivered:
    topic: str
    partition: int
    offset: int


class Publisher(Protocol):
    """What the HTTP layer needs from a producer (a fake in unit tests, Kafka otherwise)."""

    @property
    def healthy(self) -> bool: ...

    async def send(
        self, topic: str, value: bytes, *, key: bytes | None, headers: Sequence[tuple[str, bytes]]
    ) -> Delivered: ...


def producer_config(
    client_config: Mapping[str, str], *, client_id: str, delivery_timeout_ms: int
) -> dict[str, object]:
    """Idempotent, ``acks=all`` producer settings on top of the shared connection properties."""
    return {
        **client_config,
        "client.id": client_id,
        "enable.idempotence": True,
        "acks": "all",
        "partitioner": "murmur2_random",  # Java-compatible key -> partition, like bus.clients
        # Low linger: each webhook waits for its own acknowledgement.
        "linger.ms": 2,
        "message.timeout.ms": delivery_timeout_ms,
        "socket.connection.setup.timeout.ms": min(delivery_timeout_ms, 30_000),
    }


class IngressProducer:
    """An idempotent producer whose ``send`` returns only after the broker acknowledged the record."""

    def __init__(self, config: Mapping[str, object]) -> None:
        self._fatal: KafkaError | None = None
        self._producer = Producer({**config, "error_cb": self._on_error})
        self._closing = threading.Event()
        self._poller = threading.Thread(target=self._poll_forever, name="ingress-producer-poll", daemon=True)
        self._poller.start()

    @property
    def healthy(self) -> bool:
        return self._fatal is None and not self._closing.is_set()

    def _on_error(self, error: KafkaError) -> None:
        # A fatal error (e.g. fenced idempotent producer) leaves this instance unusable: readiness
        # turns false and the process must be restarted. Transient ones are retried by librdkafka.
        if error.fatal():
            self._fatal = error

    def _poll_forever(self) -> None:
        while not self._closing.is_set():
            self._producer.poll(0.1)

    async def send(
        self,
        topic: str,
        value: bytes,
        *,
        key: bytes | None,
        headers: Sequence[tuple[str, bytes]],
    ) -> Delivered:
        if self._fatal is not None:
            raise BrokerUnavailableError(f"producer failed fatally: {self._fatal.name()}")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Delivered] = loop.create_future()

        def settle(error: KafkaError | None, message: Message) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(BrokerUnavailableError(f"{error.name()}: {error.str()}"))
            else:
                future.set_result(
                    Delivered(message.topic() or topic, message.partition() or 0, message.offset() or 0)
                )

        def on_delivery(error: KafkaError | None, message: Message) -> None:
            # Runs on the poll thread; futures may only be touched from their loop.
            with contextlib.suppress(RuntimeError):  # the loop closed while the record was in flight
                loop.call_soon_threadsafe(settle, error, message)

        try:
            self._producer.produce(
                topic, value=value, key=key, headers=list(headers), on_delivery=on_delivery
            )
        except BufferError as exc:
            raise BrokerUnavailableError("local produce queue is full") from exc
        except KafkaException as exc:
            raise BrokerUnavailableError(str(exc)) from exc
        return await future

    def close(self, timeout_s: float = 10.0) -> int:
        """Flush what is in flight and stop; returns the number of records left undelivered."""
        remaining = self._producer.flush(timeout_s)
        self._closing.set()
        self._poller.join(timeout=5)
        return remaining
