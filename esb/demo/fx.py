"""Today's exchange rates on ``canonical.fx-rates.v1``, as a rates provider would publish them.

The ledger poster converts into each entity's functional currency (the demo's Adyen payments book in
EU01, EUR) and dead-letters what it cannot convert; the demo publishes the rates it needs first.
Rates are written to every partition: the ledger poster keeps them per partition.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from bus.config import SchemaRegistrySettings
from bus.serde import registry_client
from schemas.common.models import EventMetadata, SourceRef
from schemas.ledger.models import FxRate
from schemas.loader import schema_text

__all__ = ["DEMO_RATES", "publish_rates"]

TOPIC = "canonical.fx-rates.v1"
DEMO_RATES: dict[tuple[str, str], Decimal] = {
    ("USD", "EUR"): Decimal("0.9200000000"),
    ("EUR", "USD"): Decimal("1.0869565217"),
}


def publish_rates(
    bootstrap_servers: str,
    registry_url: str,
    rates: Mapping[tuple[str, str], Decimal] = DEMO_RATES,
    days: int = 3,
) -> int:
    """Rates for today and the ``days`` before it, to every partition. Returns the records written."""
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    topic = admin.list_topics(TOPIC, timeout=10).topics.get(TOPIC)
    if topic is None or topic.error is not None:
        return 0
    serializer = AvroSerializer(
        registry_client(SchemaRegistrySettings(url=registry_url)),
        schema_text(FxRate.avro_name()),
        conf={"auto.register.schemas": False, "use.latest.version": True},
    )
    producer = Producer({"bootstrap.servers": bootstrap_servers, "enable.idempotence": True})
    now = datetime.now(UTC)
    written = 0
    for (base, quote), rate in rates.items():
        for back in range(days + 1):
            day: date = (now - timedelta(days=back)).date()
            native = f"{base}/{quote}@{day.isoformat()}"
            value = FxRate(
                metadata=EventMetadata(
                    event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"esb-demo-fx:{native}"),
                    event_type="fx.rate",
                    occurred_at=now,
                    ingested_at=now,
                    source=SourceRef(system="esb-demo", account="demo", entity="fx_rate", native_id=native),
                ),
                base_currency=base,
                quote_currency=quote,
                rate=rate,
                rate_date=day,
                provider="esb-demo",
            )
            payload = serializer(value.to_avro(), SerializationContext(TOPIC, MessageField.VALUE))
            for partition in topic.partitions:
                producer.produce(TOPIC, payload, key=f"{base}/{quote}".encode(), partition=partition)
                written += 1
    producer.flush(15)
    return written
