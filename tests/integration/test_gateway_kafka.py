"""The gateway in-process (httpx ASGI transport) with its real producer against the real broker."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import structlog
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from opentelemetry.sdk.trace import TracerProvider
from pydantic import SecretStr

from services.gateway.app import create_app
from services.gateway.dedupe import SeenEvents
from services.gateway.producer import IngressProducer, producer_config
from services.gateway.settings import GatewaySettings
from services.gateway.signatures import timestamped_signature
from tests.gateway_support import (
    ADYEN_KEY,
    CONFORMANCE,
    TEST_PANS,
    shopify_headers,
    signed_adyen,
    stripe_header,
    woocommerce_headers,
)
from tests.infra import StackEndpoints

pytestmark = pytest.mark.integration

SHOP = "acme.myshopify.com"
ENTITIES = (
    "shopify.orders",
    "woocommerce.orders",
    "stripe.events",
    "adyen.notifications",
    "acme-3pl.shipments",
)


def read_all(bootstrap: str, topic: str) -> list[Any]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"read-{uuid.uuid4().hex}", "enable.partition.eof": True}
    )
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    records: list[Any] = []
    at_end: set[int] = set()
    deadline = time.monotonic() + 20
    while len(at_end) < len(partitions) and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is None:
            continue
        error = message.error()
        if error is not None and error.code() == KafkaError._PARTITION_EOF:
            at_end.add(message.partition() or 0)
        elif error is None:
            records.append(message)
    consumer.close()
    return records


@pytest.fixture
def prefix(kafka_admin: AdminClient) -> Iterator[str]:
    """A unique topic prefix with every ingress topic the tests write to created under it."""
    value = f"t{uuid.uuid4().hex[:10]}."
    names = [f"{value}ingress.{entity}" for entity in ENTITIES]
    for future in kafka_admin.create_topics([NewTopic(n, 2, replication_factor=-1) for n in names]).values():
        future.result(timeout=30)
    yield value
    for future in kafka_admin.delete_topics(names).values():
        with contextlib.suppress(KafkaException):
            future.result(timeout=30)


def gateway_settings(prefix: str, **overrides: Any) -> GatewaySettings:
    return GatewaySettings(
        topic_prefix=prefix,
        shopify_secrets={SHOP: SecretStr("shpss_it")},
        woocommerce_secrets={"wc-shop": SecretStr("wc_it")},
        stripe_secrets={"default": SecretStr("whsec_it")},
        adyen_hmac_keys={"default": SecretStr(ADYEN_KEY)},
        generic_secrets={"acme-3pl": SecretStr("generic_it")},
        **overrides,
    )


def post_all(
    settings: GatewaySettings, bootstrap: str, requests: list[tuple[str, bytes, dict[str, str]]]
) -> list[int]:
    async def run() -> list[int]:
        producer = IngressProducer(
            producer_config(
                {"bootstrap.servers": bootstrap},
                client_id="gateway-test",
                delivery_timeout_ms=settings.delivery_timeout_ms,
            )
        )
        tracer = TracerProvider().get_tracer("test")
        app = create_app(settings, producer, SeenEvents(60, 1000), tracer=tracer)
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gw", timeout=30) as client:
                return [
                    (await client.post(path, content=body, headers=headers)).status_code
                    for path, body, headers in requests
                ]
        finally:
            producer.close()

    return asyncio.run(run())


def shopify_order() -> bytes:
    # Webhook bodies are the bare resource (FIELDS.md); the REST fixture wraps it in {"order": ...}.
    order = json.loads((CONFORMANCE / "shopify" / "python_api_order.json").read_bytes())["order"]
    return json.dumps(order, indent=1).encode()


def stripe_request(body: bytes, timestamp: int | None = None) -> tuple[str, bytes, dict[str, str]]:
    ts = int(time.time()) if timestamp is None else timestamp
    return ("/webhooks/stripe", body, {"stripe-signature": stripe_header(body, "whsec_it", ts)})


def test_signed_webhooks_reach_their_ingress_topics_once(stack: StackEndpoints, prefix: str) -> None:
    order = shopify_order()
    woo = (CONFORMANCE / "woocommerce" / "v3_customer_create.json").read_bytes()
    stripe = (CONFORMANCE / "stripe" / "event_charge.succeeded.json").read_bytes()
    adyen = signed_adyen(CONFORMANCE / "adyen" / "notification_authorisation-true.json")
    shopify = ("/webhooks/shopify", order, shopify_headers(order, "shpss_it", SHOP, "orders/create", "ev-1"))
    tampered = order.replace(b"598.94", b"1.00") if b"598.94" in order else order + b" "
    requests = [
        shopify,
        shopify,  # re-delivery: answered 200, not written again
        ("/webhooks/shopify", tampered, shopify[2]),  # bad signature: 401, nothing written
        (
            "/webhooks/woocommerce/wc-shop",
            woo,
            woocommerce_headers(woo, "wc_it", "https://x", "order.created", "d1"),
        ),
        stripe_request(stripe),
        stripe_request(stripe.replace(b"evt_", b"evt_stale_"), timestamp=int(time.time()) - 301),
        ("/webhooks/adyen", adyen, {"content-type": "application/json"}),
        ("/webhooks/shopify", b"{" + b" " * 2_000_000 + b"}", shopify[2]),  # oversize
    ]
    statuses = post_all(gateway_settings(prefix), stack.bootstrap_servers, requests)
    assert statuses == [200, 200, 401, 200, 200, 401, 200, 413]

    (record,) = read_all(stack.bootstrap_servers, f"{prefix}ingress.shopify.orders")
    headers = {k: v.decode() for k, v in record.headers()}
    assert record.value() == order
    assert headers["esb-event-id"] == "ev-1"
    assert headers["esb-event-topic"] == "orders/create"
    assert headers["esb-source-system"] == "shopify"
    assert headers["esb-source-account"] == SHOP
    assert headers["esb-received-at"].endswith("Z")
    assert headers["traceparent"].startswith("00-")
    assert len(headers["traceparent"]) == 55
    assert record.key() == f"{SHOP}/{json.loads(order)['id']}".encode()

    (woo_record,) = read_all(stack.bootstrap_servers, f"{prefix}ingress.woocommerce.orders")
    assert woo_record.value() == woo
    (stripe_record,) = read_all(stack.bootstrap_servers, f"{prefix}ingress.stripe.events")
    assert dict(stripe_record.headers())["esb-event-id"] == json.loads(stripe)["id"].encode()
    (adyen_record,) = read_all(stack.bootstrap_servers, f"{prefix}ingress.adyen.notifications")
    assert adyen_record.value() == adyen
    assert dict(adyen_record.headers())["esb-event-id"] == b"123456789:AUTHORISATION:true"


def test_broker_down_answers_503(prefix: str) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{sock.getsockname()[1]}"
    body = shopify_order()
    request = ("/webhooks/shopify", body, shopify_headers(body, "shpss_it", SHOP, "orders/create", "ev-down"))
    started = time.monotonic()
    assert post_all(gateway_settings(prefix, delivery_timeout_ms=1500), closed, [request]) == [503]
    assert time.monotonic() - started < 15


def test_card_numbers_reach_neither_kafka_nor_the_logs(
    stack: StackEndpoints, prefix: str, kafka_admin: AdminClient, capsys: pytest.CaptureFixture[str]
) -> None:
    order = json.loads(shopify_order())
    order["note"] = f"customer card {TEST_PANS[0]}, cvv 123"
    order["payment_details"] = {"credit_card_number": TEST_PANS[1], "cvv": "737", "alt": int(TEST_PANS[2])}
    shopify = json.dumps(order).encode()
    stripe_event = json.loads((CONFORMANCE / "stripe" / "event_charge.succeeded.json").read_bytes())
    stripe_event["data"]["object"]["description"] = " ".join(TEST_PANS[3:5])
    stripe = json.dumps(stripe_event).encode()
    woo = json.dumps(
        {"id": 7, "customer_note": f"{TEST_PANS[5]} / {TEST_PANS[6]}", "card": {"cvc": 321}}
    ).encode()
    generic = f"<shipment><card>{TEST_PANS[0]}</card><cvv2>999</cvv2></shipment>".encode()
    ts = str(int(time.time()))
    generic_headers = {
        "content-type": "application/xml",
        "x-esb-timestamp": ts,
        "x-esb-signature": "v1=" + timestamped_signature("generic_it", int(ts), generic),
        "x-esb-event-id": "g-1",
        "x-esb-topic": "shipments/created",
    }
    requests = [
        ("/webhooks/shopify", shopify, shopify_headers(shopify, "shpss_it", SHOP, "orders/create", "ev-pan")),
        stripe_request(stripe),
        (
            "/webhooks/woocommerce/wc-shop",
            woo,
            woocommerce_headers(woo, "wc_it", "https://x", "order.created", "d2"),
        ),
        ("/webhooks/generic/acme-3pl", generic, generic_headers),
    ]
    with structlog.testing.capture_logs() as logs:
        assert post_all(gateway_settings(prefix), stack.bootstrap_servers, requests) == [200] * 4

    topics = [t for t in kafka_admin.list_topics(timeout=10).topics if t.startswith(prefix)]
    assert len(topics) == len(ENTITIES)
    written = [m for topic in topics for m in read_all(stack.bootstrap_servers, topic)]
    assert len(written) == 4
    haystack = b"\n".join(m.value() + repr(m.headers()).encode() for m in written)
    haystack += json.dumps(logs).encode() + capsys.readouterr().out.encode()
    compact = haystack.replace(b" ", b"").replace(b"-", b"")
    for pan in TEST_PANS:
        assert pan.encode() not in compact, pan
    for cvv in (b'"737"', b'"cvc": 321', b"<cvv2>999"):
        assert cvv not in haystack
    assert all(dict(m.headers()).get("esb-redactions") for m in written)
    assert (
        json.loads(next(m.value() for m in written if m.topic().endswith("shopify.orders")))["id"]
        == order["id"]
    )
