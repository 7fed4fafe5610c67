"""IngressRecord.from_kafka: what the headers say, the topic's names when they say nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.translator.errors import TranslationError
from services.translator.ingress import IngressRecord

pytestmark = pytest.mark.unit

TOPIC = "ingress.shopify.orders"


def test_every_header_is_read() -> None:
    headers = {
        "esb-source-system": b"woocommerce",
        "esb-entity": b"refunds",
        "esb-source-account": b"shop.example",
        "esb-event-id": b"evt-1",
        "esb-event-topic": b"orders/create",
        "esb-received-at": b"2026-11-27T10:00:00.123Z",
        "content-type": b"application/json",
        "esb-api-version": b"2024-04",
        "esb-shop-currency": b"EUR",
        "traceparent": b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    }
    assert IngressRecord.from_kafka(b"{}", headers, TOPIC) == IngressRecord(
        raw=b"{}",
        system="woocommerce",
        entity="refunds",
        account="shop.example",
        received_at=datetime(2026, 11, 27, 10, 0, 0, 123000, tzinfo=UTC),
        provider_event_id="evt-1",
        provider_topic="orders/create",
        api_version="2024-04",
        content_type="application/json",
        shop_currency="EUR",
    )


@pytest.mark.parametrize(
    ("headers", "topic", "system", "entity"),
    [
        ({}, TOPIC, "shopify", "orders"),
        ({"esb-source-system": b"", "esb-entity": b""}, TOPIC, "shopify", "orders"),  # empty = absent
        ({"esb-entity": b"refunds"}, "prefix.ingress.stripe.charges", "stripe", "refunds"),
        ({"esb-source-system": b"sap"}, TOPIC, "sap", "orders"),
        ({}, "orders", "", ""),
    ],
)
def test_the_topic_names_system_and_entity_when_the_headers_do_not(
    headers: dict[str, bytes], topic: str, system: str, entity: str
) -> None:
    record = IngressRecord.from_kafka(b"", headers, topic)
    assert (record.system, record.entity, record.account, record.provider_event_id) == (
        system,
        entity,
        "default",
        None,
    )


def test_received_at_is_utc_and_a_naive_one_is_read_as_utc() -> None:
    def received(value: bytes) -> datetime:
        return IngressRecord.from_kafka(b"", {"esb-received-at": value}, TOPIC).received_at

    assert received(b"2026-11-27T12:00:00+02:00") == datetime(2026, 11, 27, 10, tzinfo=UTC)
    assert received(b"2026-11-27T12:00:00+02:00").tzinfo is UTC
    assert received(b"2026-11-27T10:00:00") == datetime(2026, 11, 27, 10, tzinfo=UTC)
    before = datetime.now(UTC)
    now = IngressRecord.from_kafka(b"", {}, TOPIC).received_at
    assert before <= now <= datetime.now(UTC)
    assert now.tzinfo is UTC


def test_an_unreadable_received_at_is_a_translation_error() -> None:
    with pytest.raises(TranslationError, match="esb-received-at"):
        IngressRecord.from_kafka(b"", {"esb-received-at": b"yesterday"}, TOPIC)


def test_undecodable_bytes_are_replaced_not_refused() -> None:
    record = IngressRecord.from_kafka(b"", {"esb-source-account": b"caf\xe9"}, TOPIC)
    assert record.account == "caf\ufffd"
