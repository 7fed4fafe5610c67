"""The Avro codec against the real (Apicurio, Confluent API) registry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bus.config import SchemaRegistrySettings
from bus.errors import FatalError
from bus.serde import AvroCodec, registry_client
from services.examples.running_total.models import AMOUNT_SCHEMA, TOTAL_SCHEMA, Amount, Total
from tests.infra import StackEndpoints

pytestmark = pytest.mark.integration


def test_production_mode_finds_a_released_schema_and_refuses_an_unknown_one(
    stack: StackEndpoints, unique_name: Callable[[str], str]
) -> None:
    topic = unique_name("serde")
    registry = registry_client(SchemaRegistrySettings(url=stack.schema_registry_url))
    amount = Amount(
        event_id="e1", account="a", amount=1, occurred_at=datetime(2026, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)
    )
    released = AvroCodec(Amount, AMOUNT_SCHEMA).bind(registry, auto_register=True).encode(amount, topic)

    production = AvroCodec(Amount, AMOUNT_SCHEMA).bind(registry, auto_register=False)
    assert production.encode(amount, topic) == released  # same schema id, found by lookup
    assert production.decode(released, topic) == amount

    unreleased = AvroCodec(Total, TOTAL_SCHEMA).bind(registry, auto_register=False)
    total = Total(event_id="e1", account="a", amount=1, total=1, count=1)
    with pytest.raises(FatalError):
        unreleased.encode(total, unique_name("never-registered"))
