"""Signed webhooks through the gateway into Kafka, through the translator, onto canonical topics.

Real broker, real registry: a replayed webhook yields no second canonical event, a bad signature
yields nothing, an authentic but malformed payload lands in the translator's DLQ with the path.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from bus.config import BusSettings, KafkaSettings, RuntimeSettings, SchemaRegistrySettings, TelemetrySettings
from bus.runtime import build_runtime
from services.translator.routing import output_topics
from services.translator.service import build_service
from services.translator.settings import TranslatorSettings
from tests.gateway_support import CONFORMANCE, shopify_headers
from tests.infra import REGISTRY_TIMEOUT_S, StackEndpoints
from tests.integration.test_gateway_kafka import SHOP, gateway_settings, post_all, read_all, stripe_request

pytestmark = pytest.mark.integration

INGRESS = ("shopify.orders", "stripe.events")


@pytest.fixture
def prefix(kafka_admin: AdminClient) -> Iterator[str]:
    """A unique prefix with the ingress and canonical topics of this flow created under it."""
    value = f"t{uuid.uuid4().hex[:10]}."
    names = [f"{value}ingress.{entity}" for entity in INGRESS]
    names += [value + topic for _, topic in output_topics()]
    for future in kafka_admin.create_topics([NewTopic(n, 3, replication_factor=-1) for n in names]).values():
        future.result(timeout=30)
    yield value
    for future in kafka_admin.delete_topics(names).values():
        with contextlib.suppress(KafkaException):
            future.result(timeout=30)


def _decode(stack: StackEndpoints, topic: str, messages: list[Any]) -> list[dict[str, Any]]:
    deserializer = AvroDeserializer(
        SchemaRegistryClient({"url": stack.schema_registry_url, "timeout": REGISTRY_TIMEOUT_S})
    )
    return [deserializer(m.value(), SerializationContext(topic, MessageField.VALUE)) for m in messages]


def _wait_for(stack: StackEndpoints, topic: str, count: int, timeout_s: float = 60) -> list[Any]:
    deadline = time.monotonic() + timeout_s
    records: list[Any] = []
    while time.monotonic() < deadline:
        records = read_all(stack.bootstrap_servers, topic)
        if len(records) >= count:
            return records
        time.sleep(0.5)
    return records


def test_webhooks_become_canonical_events_once(stack: StackEndpoints, prefix: str, tmp_path: Path) -> None:
    order = json.loads((CONFORMANCE / "shopify" / "api_2024-04_order_get_full.json").read_bytes())["order"]
    body = json.dumps(order).encode()
    stripe = (CONFORMANCE / "stripe" / "event_charge.succeeded.json").read_bytes()
    malformed = b'{"id": 4507, "created_at": "not a time", "line_items": []}'
    shopify = ("/webhooks/shopify", body, shopify_headers(body, "shpss_it", SHOP, "orders/create", "ev-100"))
    bad_headers = shopify_headers(malformed, "shpss_it", SHOP, "orders/create", "ev-bad")
    requests = [
        shopify,
        shopify,  # the provider retries the same delivery
        ("/webhooks/shopify", body.replace(b"598.94", b"5.00"), shopify[2]),  # tampered: 401
        stripe_request(stripe),
        ("/webhooks/shopify", malformed, bad_headers),
    ]
    statuses = post_all(gateway_settings(prefix), stack.bootstrap_servers, requests)
    assert statuses == [200, 200, 401, 200, 200]
    # Also a re-delivery that reaches Kafka (another gateway replica): the translator drops it.
    post_all(gateway_settings(prefix), stack.bootstrap_servers, [shopify])

    service_name = f"translator-{uuid.uuid4().hex[:8]}"
    settings = TranslatorSettings(
        service_name=service_name,
        topic_prefix=prefix,
        input_topics=[f"{prefix}ingress.{entity}" for entity in INGRESS],
    )
    bus = BusSettings(
        kafka=KafkaSettings(bootstrap_servers=stack.bootstrap_servers),
        schema_registry=SchemaRegistrySettings(url=stack.schema_registry_url, auto_register=True),
        telemetry=TelemetrySettings(exporter_otlp_endpoint=stack.otlp_http_endpoint),
        runtime=RuntimeSettings(state_dir=tmp_path, commit_interval_ms=50, retry_attempts=1),
    )
    runtime = build_runtime(build_service(settings), bus)
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            runtime.run(stop)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        orders_topic = f"{prefix}canonical.orders.v1"
        orders = _wait_for(stack, orders_topic, 1)
        payments = _wait_for(stack, f"{prefix}canonical.payments.v1", 1)
        dead = _wait_for(stack, f"dlq.{service_name}", 1)
        time.sleep(2)  # give a wrongly translated duplicate the time to show up
        orders = read_all(stack.bootstrap_servers, orders_topic)
    finally:
        stop.set()
        thread.join(60)
    assert errors == []

    (order_event,) = _decode(stack, orders_topic, orders)
    assert order_event["order"]["native_id"] == str(order["id"])
    assert order_event["order"]["display_number"] == order["name"]
    assert str(order_event["order"]["totals"]["total"]["amount"]) == "598.9400"
    assert order_event["metadata"]["provider_event_id"] == "ev-100"
    assert orders[0].key() == str(order_event["order"]["order_id"]).encode()
    # The trace that started at the gateway goes on in the translator's output.
    ingress = read_all(stack.bootstrap_servers, f"{prefix}ingress.shopify.orders")
    ingress_trace = dict(ingress[0].headers())["traceparent"].decode().split("-")[1]
    assert dict(orders[0].headers())["traceparent"].decode().split("-")[1] == ingress_trace

    (payment,) = _decode(stack, f"{prefix}canonical.payments.v1", payments)
    assert payment["kind"] == "CAPTURE"
    assert str(payment["amount"]["amount"]) == "20.0000"

    (letter,) = dead
    headers = {k: v.decode() for k, v in letter.headers()}
    assert letter.value() == malformed
    assert headers["esb.dlq.stage"] == "handle"
    # The reason names the JSON path, what was expected and what was found.
    assert "$.currency: expected string, found missing" in headers["esb.dlq.error.message"]
    assert headers["esb.dlq.error.class"].endswith("TranslationError")
