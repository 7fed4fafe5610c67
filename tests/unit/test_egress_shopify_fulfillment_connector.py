"""Delivering an egress Shopify fulfillment: the probe's fulfillment orders turn it into the request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from services.connectors.classify import Delivered, Rejected, Retry
from services.connectors.deliver import Deliverer
from services.connectors.request import DeliveryRequest
from services.connectors.settings import AccountSettings, AuthScheme
from services.connectors.shopify_fulfillment import resolve, sent_before
from services.egress import shopify
from tests import egress_support as samples
from tests.recording_server import Answer, RecordingServer

pytestmark = pytest.mark.unit


def _document() -> DeliveryRequest:
    lines = samples.shopify_order_lines()
    doc = shopify.fulfillment(samples.warehouse_shipment(), samples.SHOPIFY, "450789469", lines)
    return DeliveryRequest.from_record(doc.body, doc.headers())


def _line(fo: int, item: int, line_item: int, quantity: int, fulfillable: int) -> dict[str, Any]:
    """A fulfillment order line item as ``GET /orders/<id>/fulfillment_orders.json`` lists it."""
    return {
        "id": item,
        "shop_id": 548380009,
        "fulfillment_order_id": fo,
        "quantity": quantity,
        "line_item_id": line_item,
        "inventory_item_id": 808950810,
        "fulfillable_quantity": fulfillable,
        "variant_id": 39072856,
    }


def _orders(*orders: tuple[int, str, list[dict[str, Any]]]) -> bytes:
    return json.dumps(
        {
            "fulfillment_orders": [
                {
                    "id": fo,
                    "order_id": 450789469,
                    "assigned_location_id": 655441491,
                    "status": status,
                    "line_items": items,
                }
                for fo, status, items in orders
            ]
        }
    ).encode()


# The order's two lines sit on two fulfillment orders (Shopify splits by location).
OPEN = _orders(
    (1046000779, "open", [_line(1046000779, 1025578634, 518995019, 3, 3)]),
    (1046000778, "open", [_line(1046000778, 1025578633, 466157049, 2, 2)]),
)


NONE_YET = b'{"fulfillments": []}'
TRACKING = "1Z999AA10123456784"


def _fulfillments(status: str, number: str) -> bytes:
    """``GET /orders/<id>/fulfillments.json`` with one fulfillment."""
    one = {"id": 255858046, "order_id": 450789469, "status": status, "tracking_number": number}
    return json.dumps({"fulfillments": [{**one, "tracking_numbers": [number]}]}).encode()


def test_a_live_fulfillment_with_the_tracking_number_means_it_was_sent() -> None:
    assert sent_before(_document().body, 200, _fulfillments("success", TRACKING)) == Delivered(
        200, already=True
    )
    assert sent_before(_document().body, 200, _fulfillments("cancelled", TRACKING)) is None
    assert sent_before(_document().body, 200, _fulfillments("success", "1Z0000000000000000")) is None
    assert sent_before(_document().body, 200, NONE_YET) is None
    assert isinstance(sent_before(_document().body, 503, b""), Retry)
    assert isinstance(sent_before(_document().body, 200, b"<html>"), Retry)


def test_order_line_items_become_fulfillment_order_line_items() -> None:
    resolved = resolve(_document().body, 200, OPEN)
    assert isinstance(resolved, bytes)
    assert json.loads(resolved) == {
        "fulfillment": {
            "line_items_by_fulfillment_order": [
                {
                    "fulfillment_order_id": 1046000778,
                    "fulfillment_order_line_items": [{"id": 1025578633, "quantity": 2}],
                },
                {
                    "fulfillment_order_id": 1046000779,
                    "fulfillment_order_line_items": [{"id": 1025578634, "quantity": 1}],
                },
            ],
            "notify_customer": True,
            "tracking_info": {"number": "1Z999AA10123456784", "company": "UPS"},
        }
    }


def test_fully_fulfilled_lines_mean_an_earlier_attempt_went_through() -> None:
    done = _orders(
        (1046000778, "closed", [_line(1046000778, 1025578633, 466157049, 2, 0)]),
        (1046000779, "in_progress", [_line(1046000779, 1025578634, 518995019, 3, 0)]),
    )
    assert resolve(_document().body, 200, done) == Delivered(200, already=True)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            _orders((1046000778, "open", [_line(1046000778, 1025578633, 466157049, 2, 2)])),
            "line item 518995019 is on no fulfillment order",
        ),
        (
            _orders(
                (1046000778, "on_hold", [_line(1046000778, 1025578633, 466157049, 2, 2)]),
                (1046000779, "open", [_line(1046000779, 1025578634, 518995019, 3, 3)]),
            ),
            "line item 466157049: 2 shipped, 0 fulfillable (fulfillment orders on_hold)",
        ),
        (
            _orders(
                (1046000778, "closed", [_line(1046000778, 1025578633, 466157049, 2, 0)]),
                (1046000779, "open", [_line(1046000779, 1025578634, 518995019, 3, 3)]),
            ),
            "1 of 2 line items already fulfilled",
        ),
    ],
)
def test_fulfillment_orders_that_do_not_cover_the_shipment_are_rejected(answer: bytes, reason: str) -> None:
    outcome = resolve(_document().body, 200, answer)
    assert isinstance(outcome, Rejected)
    assert reason in outcome.body


def test_probe_failures_follow_the_usual_classification() -> None:
    assert isinstance(resolve(_document().body, 429, b""), Retry)
    assert isinstance(resolve(_document().body, 404, b'{"errors":"Not Found"}'), Rejected)
    assert isinstance(resolve(_document().body, 200, b"<html>"), Retry)


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with RecordingServer() as running:
        yield running


def test_the_deliverer_probes_then_posts_the_resolved_request(server: RecordingServer) -> None:
    account = AccountSettings(base_url=server.url, auth=AuthScheme.SHOPIFY, token=SecretStr("shpat_x"))
    deliverer = Deliverer({samples.SHOP: account})
    request = _document()
    server.script.extend(
        [Answer(200, OPEN), Answer(200, NONE_YET), Answer(201, b'{"fulfillment": {"id": 255858046}}')]
    )
    assert deliverer.deliver(request) == Delivered(201)
    probe, listed, post = server.requests
    assert (listed.method, listed.path) == ("GET", "/admin/api/2024-04/orders/450789469/fulfillments.json")
    assert (probe.method, probe.path) == (
        "GET",
        "/admin/api/2024-04/orders/450789469/fulfillment_orders.json",
    )
    assert (post.method, post.path) == ("POST", "/admin/api/2024-04/fulfillments.json")
    assert post.headers["X-Shopify-Access-Token"] == "shpat_x"
    sent = json.loads(post.body)["fulfillment"]
    assert "line_items" not in sent
    assert [group["fulfillment_order_id"] for group in sent["line_items_by_fulfillment_order"]] == [
        1046000778,
        1046000779,
    ]


def test_an_unacknowledged_earlier_attempt_is_not_fulfilled_again(server: RecordingServer) -> None:
    """The first POST went through but its answer was lost: the order's lines still have units left
    (another shipment is due), so only the tracking number shows that this one was sent."""
    account = AccountSettings(base_url=server.url, auth=AuthScheme.SHOPIFY, token=SecretStr("shpat_x"))
    deliverer = Deliverer({samples.SHOP: account})
    server.script.extend([Answer(200, OPEN), Answer(200, _fulfillments("success", TRACKING))])
    assert deliverer.deliver(_document()) == Delivered(200, already=True)
    assert [r.method for r in server.requests] == ["GET", "GET"]
