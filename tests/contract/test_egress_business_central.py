"""Business Central API v2.0 documents: golden files; field names and JSON types against the vendor's
own entity samples (``conformance/business_central``)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from schemas.orders.models import OrderChange
from services.egress import business_central, jsondoc
from services.egress.document import Method
from tests import egress_support as samples
from tests.contract.egress_golden import assert_golden, conformance

pytestmark = pytest.mark.contract

# Writable v2.0 fields that the GET samples happen not to show (documented on the entity pages).
_NOT_IN_SAMPLE = {
    "salesOrder": {
        "pricesIncludeTax",
        "shipToAddressLine2",
        "shipToState",
        "shipToPostCode",
        "billToState",
        "billToPostCode",
        "salesOrderLines",
    },
    "salesOrderLine": set(),
    "customer": set(),
    "journalLine": set(),
}


def _sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(conformance(f"business_central/{name}_get.json").read_text())
    return data


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    return type(value).__name__


def assert_vendor_shape(entity: str, body: dict[str, Any]) -> None:
    """Every field we send exists on the vendor's entity with the same JSON type."""
    sample = _sample(entity)
    unknown = set(body) - set(sample) - _NOT_IN_SAMPLE[entity]
    assert not unknown, f"{entity}: fields Business Central does not have: {sorted(unknown)}"
    for name in set(body) & set(sample):
        assert _json_type(body[name]) == _json_type(sample[name]), f"{entity}.{name}: {body[name]!r}"


def test_sales_order_deep_insert_golden_and_shape() -> None:
    doc = business_central.sales_order(samples.order_event(), samples.BUSINESS_CENTRAL)
    assert doc is not None
    assert_golden("business_central_salesOrder.json", doc)
    body = jsondoc.loads(doc.body)
    assert_vendor_shape("salesOrder", body)
    for line in body["salesOrderLines"]:
        assert_vendor_shape("salesOrderLine", line)
    assert body["currencyCode"] == ""  # USD is the company's LCY
    assert len(body["externalDocumentNumber"]) <= 35
    assert body["salesOrderLines"][0]["lineObjectNumber"] == "1996-S"
    assert str(body["salesOrderLines"][0]["discountAmount"]) == "20.00"
    assert doc.probe is not None
    assert doc.probe.endswith(f"$filter=externalDocumentNumber eq '{body['externalDocumentNumber']}'")


def test_sales_order_change_golden_and_shape() -> None:
    """UPDATED: the desired header fields and item lines, for the connector to diff (etags are BC's)."""
    event = samples.order_version(
        OrderChange.UPDATED, 2, quantities={"466157049": 5, "518995019": 0}, shipping_address=samples.BILL_TO
    )
    doc = business_central.sales_order(event, samples.BUSINESS_CENTRAL)
    assert doc is not None
    assert_golden("business_central_salesOrderChange.json", doc)
    body = jsondoc.loads(doc.body)
    assert_vendor_shape("salesOrder", body["salesOrder"])
    for line in body["salesOrderLines"]:
        assert_vendor_shape("salesOrderLine", line)
    assert body["change"] == "UPDATED"
    assert [line["lineObjectNumber"] for line in body["salesOrderLines"]] == ["1996-S"]  # 0 units: removed
    assert body["salesOrder"]["shipToAddressLine2"] == ""  # cleared in BC, not left as it was
    create = body["create"]  # for an order Business Central does not have (its PLACED came late)
    assert_vendor_shape("salesOrder", create)
    assert create["externalDocumentNumber"] == body["externalDocumentNumber"]
    assert [(line["sequence"], line["quantity"]) for line in create["salesOrderLines"]] == [(10000, 5)]
    placed = business_central.sales_order(samples.order_event(), samples.BUSINESS_CENTRAL)
    assert placed is not None
    assert (doc.topic, doc.key, doc.external_id) == (placed.topic, placed.key, placed.external_id)
    assert doc.document_type == "business-central.salesOrderChange"
    assert doc.method is Method.PATCH
    assert doc.path.endswith("/salesOrders")
    assert doc.probe == f"{placed.probe}&$expand=salesOrderLines"
    again = business_central.sales_order(event, samples.BUSINESS_CENTRAL)
    assert again is not None
    assert again.idempotency_key == doc.idempotency_key  # one key per order version
    later = business_central.sales_order(
        samples.order_version(OrderChange.UPDATED, 3), samples.BUSINESS_CENTRAL
    )
    assert later is not None
    assert later.idempotency_key != doc.idempotency_key


def test_sales_order_cancellation_golden() -> None:
    doc = business_central.sales_order(
        samples.order_version(OrderChange.CANCELLED, 2), samples.BUSINESS_CENTRAL
    )
    assert doc is not None
    assert_golden("business_central_salesOrderCancel.json", doc)
    assert doc.method is Method.DELETE
    assert jsondoc.loads(doc.body) == {
        "externalDocumentNumber": doc.external_id,
        "change": "CANCELLED",
    }


def test_closed_orders_send_nothing() -> None:
    assert (
        business_central.sales_order(samples.order_event(OrderChange.CLOSED), samples.BUSINESS_CENTRAL)
        is None
    )


def test_customer_golden_and_shape() -> None:
    doc = business_central.customer(samples.golden_customer(), samples.BUSINESS_CENTRAL)
    assert_golden("business_central_customer.json", doc)
    body = jsondoc.loads(doc.body)
    assert_vendor_shape("customer", body)
    assert len(body["number"]) <= 20


def test_journal_lines_golden_shape_and_balance() -> None:
    docs = business_central.journal_lines(samples.journal_entry(), samples.BUSINESS_CENTRAL)
    assert len(docs) == 4
    assert_golden("business_central_journalLine_1.json", docs[0])
    bodies = [jsondoc.loads(doc.body) for doc in docs]
    for body in bodies:
        assert_vendor_shape("journalLine", body)
    assert sum(body["amount"] for body in bodies) == 0  # debits positive, credits negative
    assert [body["lineNumber"] for body in bodies] == [10000, 20000, 30000, 40000]
    assert len({doc.idempotency_key for doc in docs}) == 4
    assert len({body["documentNumber"] for body in bodies}) == 1
