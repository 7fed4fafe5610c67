from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

import httpx
import pytest
from pydantic import SecretStr

from services.gateway.app import create_app
from services.gateway.dedupe import SeenEvents
from services.gateway.producer import BrokerUnavailableError, Delivered
from services.gateway.settings import GatewaySettings
from tests.gateway_support import shopify_headers

pytestmark = pytest.mark.unit

SECRET = "shpss_unit"


class FakePublisher:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, bytes, dict[str, bytes]]] = []
        self.fail = fail
        self.healthy = True

    async def send(
        self, topic: str, value: bytes, *, key: bytes | None, headers: Sequence[tuple[str, bytes]]
    ) -> Delivered:
        if self.fail:
            raise BrokerUnavailableError("down")
        self.sent.append((topic, value, dict(headers)))
        return Delivered(topic, 0, len(self.sent) - 1)


def _post(
    publisher: FakePublisher,
    path: str,
    body: bytes,
    headers: dict[str, str],
    woocommerce: dict[str, SecretStr] | None = None,
) -> list[int]:
    settings = GatewaySettings(
        shopify_secrets={"acme.myshopify.com": SecretStr(SECRET)},
        woocommerce_secrets=woocommerce or {},
        max_body_bytes=2048,
    )
    app = create_app(settings, publisher, SeenEvents(60, 100))

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            first = await client.post(path, content=body, headers=headers)
            second = await client.post(path, content=body, headers=headers)
            metrics = (await client.get("/metrics")).text
            assert f'provider="{path.split("/")[2]}"' in metrics
            return [first.status_code, second.status_code]

    return asyncio.run(run())


def _shopify(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return shopify_headers(body, secret, "acme.myshopify.com", "orders/create", "ev-1")


def test_signed_webhook_written_once_and_redelivery_answered_without_a_write() -> None:
    publisher = FakePublisher()
    body = json.dumps({"id": 42, "total_price": "1.00"}).encode()
    assert _post(publisher, "/webhooks/shopify", body, _shopify(body)) == [200, 200]
    assert len(publisher.sent) == 1
    topic, value, headers = publisher.sent[0]
    assert topic == "ingress.shopify.orders"
    assert value == body
    assert headers["esb-event-id"] == b"ev-1"
    assert headers["esb-source-account"] == b"acme.myshopify.com"


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/webhooks/shopify", _shopify(b"{}", secret="wrong"), 401),
        ("/webhooks/shopify", {**_shopify(b"{}"), "x-shopify-shop-domain": "other.myshopify.com"}, 401),
        ("/webhooks/stripe", {"stripe-signature": "t=1,v1=00"}, 404),
        ("/webhooks/nosuch", {}, 404),
        ("/webhooks/shopify", {**_shopify(b"{}"), "x-shopify-topic": "../etc"}, 400),
    ],
)
def test_rejections_write_nothing(path: str, headers: dict[str, str], status: int) -> None:
    publisher = FakePublisher()
    assert _post(publisher, path, b"{}", headers)[0] == status
    assert publisher.sent == []


def test_oversize_is_413_and_broker_failure_is_503_without_remembering() -> None:
    big = b"{" + b" " * 4096 + b"}"
    publisher = FakePublisher()
    assert _post(publisher, "/webhooks/shopify", big, _shopify(big)) == [413, 413]
    failing = FakePublisher(fail=True)
    assert _post(failing, "/webhooks/shopify", b"{}", _shopify(b"{}")) == [503, 503]


def test_woocommerce_ping_is_accepted_unsigned_and_not_written() -> None:
    publisher = FakePublisher()
    secrets = {"shop": SecretStr("wc")}
    assert _post(publisher, "/webhooks/woocommerce", b"webhook_id=12", {}, woocommerce=secrets) == [200, 200]
    assert publisher.sent == []
