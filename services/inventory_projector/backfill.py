"""``esb backfill inventory-projector``: copy the ``.v1`` inputs into the SKU-keyed ``.v2`` topics.

A one-off step of moving the projector to the ``.v2`` inputs (its README's runbook), run with the
translator and the order router stopped, before they are deployed writing both topics. Per source
partition, from the earliest offset to the end, in offset order (``read_committed``): each record's
value, headers and timestamp go to the target unchanged, keyed by the SKU of the value, through an
idempotent producer with the runtime's partitioner. One stock position lives in one ``.v1``
partition, so its events keep their order in ``.v2``. A record the projector dead-lettered on
``.v1`` (a value that does not decode, or a key that is not ``stock_key`` of the value) keeps its
key, so the projector dead-letters it on ``.v2`` as well. The copy refuses targets that already
hold records (a second run, or producers already writing them) unless forced, and stops, failing,
when the schema registry cannot be asked (a valid record is never taken for an undecodable one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import typer
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from bus.clients import producer_config
from bus.config import BusSettings
from bus.errors import FatalError, SerdeError
from bus.serde import AvroCodec, BoundCodec, registry_client
from bus.topic_reader import iter_to_end
from schemas.ids import stock_key
from schemas.inventory.models import ReservationEvent, StockMovementEvent
from schemas.loader import schema_text
from services.inventory_projector.settings import ProjectorSettings

__all__ = ["BackfillError", "Copied", "backfill", "command"]


class BackfillError(Exception):
    """The copy could not finish; the target holds a prefix of some source partitions."""


# Per source topic: records copied keyed by SKU, and under "<topic> kept key" those that keep their
# key (undecodable, or keyed other than by stock_key of their value).
Copied = dict[str, int]


def _partitions(consumer: Consumer, topic: str) -> int:
    found = consumer.list_topics(topic, timeout=30).topics.get(topic)
    if found is None or found.error is not None or not found.partitions:
        raise BackfillError(f"topic {topic} does not exist")
    return len(found.partitions)


def _records(consumer: Consumer, topic: str) -> int:
    """How many offsets ``topic`` holds (high minus low watermark, over its partitions)."""
    total = 0
    for partition in range(_partitions(consumer, topic)):
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=30)
        total += high - low
    return total


def _sku_key(codec: BoundCodec, source: str, key: bytes | None, value: bytes) -> bytes | None:
    """The SKU to key the record by, or None when it keeps its key: the projector dead-lettered it
    on ``.v1`` (a value that does not decode, a key that is not ``stock_key`` of the value)."""
    try:
        event = codec.decode(value, source)
    except SerdeError:  # a FatalError (the registry unreachable) stops the copy
        return None
    if key != str(stock_key(event.sku, event.location)).encode():
        return None
    sku: bytes = event.sku.encode()
    return sku


def _copy(
    consumer: Consumer,
    producer: Producer,
    codec: BoundCodec,
    source: str,
    target: str,
    timeout_s: float,
    force: bool,
    client: dict[str, Any],
) -> Copied:
    """``consumer``: for the topics' metadata; the records are read by :func:`iter_to_end`."""
    if _partitions(consumer, source) != _partitions(consumer, target):
        raise BackfillError(f"{source} and {target} have different partition counts")
    if not force and _records(consumer, target) > 0:
        raise BackfillError(f"{target} already holds records (a second run?); --force copies again")
    copied = {source: 0, f"{source} kept key": 0}
    try:
        for message in iter_to_end(client, source, "esb-backfill", timeout_s):
            value = message.value()
            if value is None:
                continue
            key = message.key()
            sku = _sku_key(codec, source, key, value)
            if sku is None:
                copied[f"{source} kept key"] += 1
            else:
                key = sku
                copied[source] += 1
            _produce(producer, target, key, value, message.headers(), message.timestamp()[1])
    except (LookupError, TimeoutError, KafkaException) as exc:
        raise BackfillError(f"{source}: {exc}") from exc
    return copied


def _produce(producer: Producer, topic: str, key: Any, value: bytes, headers: Any, timestamp: int) -> None:
    while True:
        try:
            producer.produce(topic, value, key=key, headers=headers, timestamp=max(timestamp, 0))
            producer.poll(0)
            return
        except BufferError:
            producer.poll(0.05)


def backfill(
    bus: BusSettings, pairs: Sequence[tuple[str, str, Any]], timeout_s: float = 3600.0, *, force: bool = False
) -> Copied:
    """Copy each ``(source, target, model)``; returns the counts once every record is acknowledged.
    ``force``: copy into targets that already hold records."""
    client = bus.kafka.client_config()
    registry = registry_client(bus.schema_registry)
    failures: list[str] = []

    def delivered(error: Any, _message: Any) -> None:
        if error is not None:
            failures.append(str(error))

    producer = Producer({**producer_config(client), "linger.ms": 20, "on_delivery": delivered})
    consumer = Consumer({**client, "group.id": "esb-backfill", "enable.auto.commit": False})
    copied: Copied = {}
    try:
        for source, target, model in pairs:
            codec = AvroCodec(model, schema_text(model.avro_name())).bind(registry, auto_register=False)
            copied |= _copy(consumer, producer, codec, source, target, timeout_s, force, client)
    except FatalError as exc:
        raise BackfillError(f"the schema registry cannot decode now: {exc}") from exc
    finally:
        consumer.close()
        producer.flush(timeout_s)  # what was copied is acknowledged (or failed) before returning
    if producer.flush(timeout_s) != 0 or failures:
        raise BackfillError(f"not every record was acknowledged: {failures[:3]}")
    return copied


_MOVEMENTS_V1 = "canonical.stock-movements.v1"
_RESERVATIONS_V1 = "canonical.reservations.v1"


def command(
    service: str = typer.Argument(..., help="the service whose inputs to back-fill: inventory-projector"),
    movements_from: str = typer.Option(_MOVEMENTS_V1, help="the movements keyed by stock position"),
    reservations_from: str = typer.Option(_RESERVATIONS_V1, help="the reservations keyed by stock position"),
    force: bool = typer.Option(False, "--force", help="copy even into targets that already hold records"),
) -> None:
    """Copy the projector's `.v1` inputs into its SKU-keyed inputs (stop their producers first)."""
    settings = ProjectorSettings()
    if service != settings.service_name:
        raise typer.BadParameter(f"no back-fill for {service!r}; known: {settings.service_name}")
    pairs = [
        (movements_from, settings.movements_topic, StockMovementEvent),
        (reservations_from, settings.reservations_topic, ReservationEvent),
    ]
    try:
        copied = backfill(BusSettings(), pairs, force=force)
    except BackfillError as exc:
        typer.echo(f"back-fill failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    for source, count in copied.items():
        typer.echo(f"{source}: {count}")
