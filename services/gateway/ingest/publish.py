"""Write ingress records with an idempotent ``acks=all`` producer and report what was acknowledged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, Message, Producer

from services.gateway.ingest.records import IngressRecord

__all__ = ["PublishReport", "publish"]


@dataclass(slots=True)
class PublishReport:
    delivered: int = 0
    failures: list[str] = field(default_factory=list)


def publish(
    config: Mapping[str, object], records: Sequence[IngressRecord], timeout_s: float
) -> PublishReport:
    """Produce every record and wait for each acknowledgement (or failure) before returning."""
    report = PublishReport()

    def on_delivery(error: KafkaError | None, message: Message) -> None:
        if error is None:
            report.delivered += 1
        else:
            report.failures.append(f"{message.topic()}: {error.name()}")

    producer = Producer(dict(config))
    for record in records:
        while True:
            try:
                producer.produce(
                    record.topic,
                    value=record.value,
                    key=record.key,
                    headers=list(record.headers),
                    on_delivery=on_delivery,
                )
                break
            except BufferError:
                producer.poll(0.5)  # local queue full: let deliveries drain, then retry
    remaining = producer.flush(timeout_s)
    if remaining:
        report.failures.append(f"{remaining} records not acknowledged within {timeout_s}s")
    return report
