"""Business Central API v2.0 documents: golden files; field names and JSON types against the vendor's
own entity samples (``conformance/business_central``)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from schemas.orders.models import OrderChange
from services.egress import business_central, jsondoc
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


def test_sales_order_changes_are_not_posted() -> None:
    assert (
        business_central.sales_order(samples.order_event(OrderChange.UPDATED), samples.BUSINESS_CENTRAL)
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
