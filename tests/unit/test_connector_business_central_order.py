"""Business Central order changes: the diff (pure) and the deliverer against a fake Business Central
that enforces ``If-Match`` etags, answers 412 when they are stale and refuses what its state forbids."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bus.processor import Record
from bus.sink import Done, Reject
from schemas.common.models import Address, Money
from schemas.orders.models import OrderChange, OrderLine
from services.connectors.backoff import BackoffPolicy, PartitionBackoff
from services.connectors.business_central_order import Step, plan
from services.connectors.classify import Delivered, Rejected, Retry
from services.connectors.deliver import Deliverer
from services.connectors.handler import DeliverySink
from services.connectors.request import DeliveryRequest
from services.connectors.settings import AccountSettings, AuthScheme
from services.egress import business_central
from services.egress.document import EgressDocument
from tests import egress_support as samples
from tests.connector_bc_fake import FakeBusinessCentral

pytestmark = pytest.mark.unit

ACCOUNT = "contoso-production"
TOKEN = "bc-entra-token"


def _request(doc: EgressDocument | None) -> DeliveryRequest:
    assert doc is not None
    return DeliveryRequest.from_record(doc.body, doc.headers())


def _doc(event: Any) -> DeliveryRequest:
    return _request(business_central.sales_order(event, samples.BUSINESS_CENTRAL))


@pytest.fixture
def fake() -> FakeBusinessCentral:
    return FakeBusinessCentral()


@pytest.fixture
def deliverer(fake: FakeBusinessCentral) -> Iterator[Deliverer]:
    account = AccountSettings(
        base_url="https://api.example.test/v2.0/tenant/production",
        auth=AuthScheme.BEARER,
        token=SecretStr(TOKEN),
        rate_per_second=1000.0,
        burst=100,
    )
    running = Deliverer({ACCOUNT: account}, client=httpx.Client(transport=fake.transport()))
    yield running
    running.close()


def _placed(fake: FakeBusinessCentral, deliverer: Deliverer) -> dict[str, Any]:
    """The order as the PLACED deep insert created it."""
    assert deliverer.deliver(_doc(samples.order_event())) == Delivered(201)
    reference = json.loads(_doc(samples.order_event()).body)["externalDocumentNumber"]
    order = fake.order_by_reference(reference)
    assert order is not None
    fake.calls.clear()
    return order


def _items(order: dict[str, Any]) -> dict[str, Any]:
    return {line["lineObjectNumber"]: line["quantity"] for line in order["salesOrderLines"]}


CABLE = OrderLine(
    line_id="700000001",
    sku="HDMI-2M",
    title="HDMI cable 2 m",
    quantity=1,
    unit_price=Money.of("9.50", "USD"),
)
NEW_SHIP_TO = Address(
    name="Bob Norman",
    street_lines=["Elm Street 5"],
    city="Lexington",
    region_code="US-KY",
    postal_code="40507",
    country_code="US",
)


# -- the diff -----------------------------------------------------------------------------------


def _current(*lines: dict[str, Any], **header: Any) -> dict[str, Any]:
    return {
        "id": "o1",
        "number": "S-ORD101001",
        "@odata.etag": 'W/"o"',
        **header,
        "salesOrderLines": list(lines),
    }


def _line(line_id: str, item: str, quantity: int, sequence: int, **more: Any) -> dict[str, Any]:
    return {
        "id": line_id,
        "@odata.etag": f'W/"{line_id}"',
        "sequence": sequence,
        "lineType": "Item",
        "lineObjectNumber": item,
        "description": item.lower(),
        "quantity": quantity,
        "unitPrice": Decimal("1.50"),
        "discountAmount": 0,
        "shippedQuantity": 0,
        "invoicedQuantity": 0,
        **more,
    }


def _want(*lines: tuple[str, int], **header: Any) -> dict[str, Any]:
    return {
        "externalDocumentNumber": "ESB1",
        "change": "UPDATED",
        "salesOrder": header,
        "salesOrderLines": [
            {
                "lineType": "Item",
                "lineObjectNumber": item,
                "description": item.lower(),
                "quantity": quantity,
                "unitPrice": Decimal("1.5"),
                "discountAmount": Decimal("0.00"),
            }
            for item, quantity in lines
        ],
    }


def test_an_order_already_in_the_desired_state_needs_no_call() -> None:
    current = _current(_line("l1", "A", 2, 10000), email="a@example.com", shipToAddressLine2=None)
    assert plan(_want(("a", 2), email="a@example.com", shipToAddressLine2=""), current) == []


def test_header_first_then_deletions_updates_and_additions_each_with_its_etag() -> None:
    current = _current(
        _line("l1", "A", 2, 10000),
        _line("l2", "B", 1, 20000),
        {"id": "c1", "sequence": 30000, "lineType": "Comment", "description": "gift wrap"},
        shipToCity="Louisville",
    )
    steps = plan(_want(("A", 5), ("C", 1), shipToCity="Lexington"), current)
    assert steps == [
        Step("PATCH", "(o1)", 'W/"o"', {"shipToCity": "Lexington"}),
        Step("DELETE", "(o1)/salesOrderLines(l2)", 'W/"l2"'),
        Step(
            "PATCH", "(o1)/salesOrderLines(l1)", 'W/"l1"', {"quantity": 5, "discountAmount": Decimal("0.00")}
        ),
        Step("POST", "(o1)/salesOrderLines", None, _want(("C", 1))["salesOrderLines"][0]),
    ]  # the comment line a person added stays


def test_a_repeated_item_pairs_lines_in_sequence_order() -> None:
    current = _current(_line("late", "A", 3, 20000), _line("early", "A", 1, 10000))
    steps = plan(_want(("A", 1), ("A", 4)), current)
    assert steps == [
        Step(
            "PATCH",
            "(o1)/salesOrderLines(late)",
            'W/"late"',
            {"quantity": 4, "discountAmount": Decimal("0.00")},
        )
    ]  # the discount goes along: Business Central re-derives it from its percentage otherwise


@pytest.mark.parametrize(
    ("want", "reason"),
    [
        (_want(("A", 2)), "cannot delete shipped or invoiced lines (line 20000 item B"),
        (_want(("A", 1), ("B", 1)), "cannot reduce a line below its shipped quantity (line 10000 item A"),
        (
            {"externalDocumentNumber": "ESB1", "change": "CANCELLED"},
            "cannot delete an order with shipped lines",
        ),
    ],
)
def test_what_shipped_lines_forbid_is_refused_before_any_call(want: dict[str, Any], reason: str) -> None:
    current = _current(
        _line("l1", "A", 2, 10000, shippedQuantity=2), _line("l2", "B", 1, 20000, invoicedQuantity=1)
    )
    refused = plan(want, current)
    assert isinstance(refused, Rejected)
    assert "S-ORD101001" in refused.body
    assert reason in refused.body


def test_a_cancellation_deletes_the_order_with_its_etag() -> None:
    steps = plan(
        {"externalDocumentNumber": "ESB1", "change": "CANCELLED"}, _current(_line("l1", "A", 2, 10000))
    )
    assert steps == [Step("DELETE", "(o1)", 'W/"o"')]


# -- the deliverer against the fake --------------------------------------------------------------


def test_an_update_reaches_business_central_and_redelivery_sends_nothing(
    fake: FakeBusinessCentral, deliverer: Deliverer
) -> None:
    order = _placed(fake, deliverer)
    update = _doc(
        samples.order_version(
            OrderChange.UPDATED,
            2,
            quantities={"466157049": 5},  # the cable line is removed
            added=[CABLE],
            shipping_address=NEW_SHIP_TO,
        )
    )
    assert update.method == "PATCH"
    assert deliverer.deliver(update) == Delivered(200)
    assert _items(order) == {"1996-S": 5, "HDMI-2M": 1}
    assert order["shipToCity"] == "Lexington"
    assert order["shipToAddressLine2"] == ""  # the old "Apt 4" is cleared, not kept
    writes = fake.writes()
    line_ids = {line["lineObjectNumber"]: line["id"] for line in order["salesOrderLines"]}
    assert [(c.method, c.path.split("/salesOrders", 1)[1]) for c in writes] == [
        ("PATCH", f"({order['id']})"),
        ("DELETE", writes[1].path.split("/salesOrders", 1)[1]),  # the removed line: gone from the fake
        ("PATCH", f"({order['id']})/salesOrderLines({line_ids['1996-S']})"),
        ("POST", f"({order['id']})/salesOrderLines"),
    ]
    assert writes[1].path.startswith(f"{writes[0].path}/salesOrderLines(")
    assert all(c.if_match for c in writes if c.method != "POST")  # the fake answers 428 otherwise
    assert writes[2].body == {"quantity": 5, "discountAmount": Decimal("20.00")}
    assert writes[3].body is not None
    assert str(writes[3].body["unitPrice"]) == "9.50"  # digit for digit
    fake.calls.clear()
    assert deliverer.deliver(update) == Delivered(200, already=True)  # a re-delivery: nothing to do
    assert fake.writes() == []


def test_a_stale_etag_reads_again_and_finishes(fake: FakeBusinessCentral, deliverer: Deliverer) -> None:
    order = _placed(fake, deliverer)
    edited: list[str] = []

    def someone_edits_first(bc: FakeBusinessCentral, _call: Any) -> None:
        if not edited:
            edited.append("once")
            bc.touch(order["id"])

    fake.before_write = someone_edits_first
    update = _doc(samples.order_version(OrderChange.UPDATED, 2, shipping_address=NEW_SHIP_TO))
    assert deliverer.deliver(update) == Delivered(200)
    assert [c.method for c in fake.calls] == ["GET", "PATCH", "GET", "PATCH"]  # 412, read, PATCH again
    assert order["shipToCity"] == "Lexington"


def test_what_business_central_refuses_is_rejected_with_its_error_body(
    fake: FakeBusinessCentral, deliverer: Deliverer
) -> None:
    order = _placed(fake, deliverer)
    fake.released.add(order["id"])
    outcome = deliverer.deliver(
        _doc(samples.order_version(OrderChange.UPDATED, 2, quantities={"466157049": 1, "518995019": 3}))
    )
    assert isinstance(outcome, Rejected)
    assert outcome.status == 400
    assert "PATCH salesOrders(" in outcome.body
    assert "Status must be equal to 'Open' in Sales Header." in outcome.body


def test_a_cancellation_deletes_the_order_once(fake: FakeBusinessCentral, deliverer: Deliverer) -> None:
    order = _placed(fake, deliverer)
    cancel = _doc(samples.order_version(OrderChange.CANCELLED, 2))
    assert cancel.method == "DELETE"
    assert deliverer.deliver(cancel) == Delivered(200)
    assert order["id"] not in fake.orders
    assert [(c.method, c.if_match is not None) for c in fake.writes()] == [("DELETE", True)]
    fake.calls.clear()
    assert deliverer.deliver(cancel) == Delivered(200, already=True)
    assert fake.writes() == []


def test_a_shipped_order_is_not_cancelled_and_the_sink_dead_letters_why(
    fake: FakeBusinessCentral, deliverer: Deliverer
) -> None:
    order = _placed(fake, deliverer)
    order["salesOrderLines"][0]["shippedQuantity"] = 1
    doc = business_central.sales_order(
        samples.order_version(OrderChange.CANCELLED, 2), samples.BUSINESS_CENTRAL
    )
    assert doc is not None
    sink = DeliverySink(deliverer, PartitionBackoff(BackoffPolicy(0.5, 60)), clock=lambda: 0.0)
    record = Record(
        "egress.business-central.sales-orders", 0, 7, doc.key.encode(), doc.body, list(doc.headers().items())
    )
    outcome = sink.deliver(record)
    assert isinstance(outcome, Reject)
    assert "business-central.salesOrderChange" in outcome.reason
    assert "cannot delete an order with shipped lines" in outcome.reason
    assert fake.writes() == []
    assert order["id"] in fake.orders
    order["salesOrderLines"][0]["shippedQuantity"] = 0
    assert sink.deliver(record) == Done()


def test_an_update_for_an_order_business_central_does_not_have_creates_it(
    fake: FakeBusinessCentral, deliverer: Deliverer
) -> None:
    """The PLACED version never got there (webhooks out of order, or held while it changed)."""
    update = _doc(samples.order_version(OrderChange.UPDATED, 2, {"466157049": 4}, added=[CABLE]))
    assert deliverer.deliver(update) == Delivered(201)
    [order] = fake.orders.values()
    assert _items(order) == {"1996-S": 4, "HDMI-2M": 1}  # this version's state, the removed line not sent
    assert order["customerNumber"] == "WEB-SHOPIFY"
    assert [(c.method, c.path.rsplit("/", 1)[1]) for c in fake.calls] == [
        ("GET", "salesOrders"),
        ("GET", "salesInvoices"),  # not invoiced (and removed) already
        ("POST", "salesOrders"),
    ]
    fake.calls.clear()
    assert deliverer.deliver(update) == Delivered(200, already=True)
    assert fake.writes() == []
    placed = _doc(samples.order_event())
    assert deliverer.deliver(placed) == Delivered(200, already=True)  # the late PLACED finds it
    assert _items(order) == {"1996-S": 4, "HDMI-2M": 1}


def test_an_update_after_business_central_invoiced_and_removed_the_order_creates_nothing(
    fake: FakeBusinessCentral, deliverer: Deliverer
) -> None:
    update = _doc(samples.order_version(OrderChange.UPDATED, 2))
    fake.invoiced.add(update.external_id)
    assert deliverer.deliver(update) == Delivered(200, already=True)
    assert fake.writes() == []
    assert fake.orders == {}


def test_throttling_midway_retries_and_the_retry_finishes_the_rest(
    fake: FakeBusinessCentral, deliverer: Deliverer
) -> None:
    order = _placed(fake, deliverer)
    answers = iter([(429, b"{}", "5")])
    send_real = fake.handle

    def throttled(method: str, target: str, headers: dict[str, str], raw: bytes) -> tuple[int, bytes]:
        if method == "POST":
            for status, body, _after in answers:
                return status, body
        return send_real(method, target, headers, raw)

    fake.handle = throttled  # type: ignore[method-assign]
    update = _doc(samples.order_version(OrderChange.UPDATED, 2, quantities={"466157049": 5}, added=[CABLE]))
    outcome = deliverer.deliver(update)
    assert isinstance(outcome, Retry)
    assert _items(order) == {"1996-S": 5}  # the deletions and updates went through
    assert deliverer.deliver(update) == Delivered(200)  # the retry only adds the line
    assert _items(order) == {"1996-S": 5, "HDMI-2M": 1}
