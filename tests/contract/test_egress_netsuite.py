"""NetSuite REST record documents: golden files and structural checks against REST record v1 types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import jsonschema
import pytest

from schemas.inventory.models import MovementKind
from schemas.orders.models import OrderChange
from services.egress import jsondoc, netsuite
from services.egress.errors import UntranslatableError
from tests import egress_support as samples
from tests.contract.egress_golden import assert_golden

pytestmark = pytest.mark.contract

# REST record v1 field types (REST API Browser): references are {"id": string} (or {"externalId"}),
# amounts/quantities JSON numbers, dates YYYY-MM-DD, sublists {"items": [...]}. Unknown fields fail
# (NetSuite answers 400 for them with X-NetSuite-PropertyNameValidation: Error).
_REF = {
    "type": "object",
    "properties": {"id": {"type": "string", "pattern": "^-?[0-9]+$"}, "externalId": {"type": "string"}},
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": False,
}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_NUMBER = {"type": "number"}
_EXTERNAL_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"}
_ADDRESS = {
    "type": "object",
    "properties": {
        name: {"type": "string"}
        for name in ("addressee", "attention", "addr1", "addr2", "addr3", "city", "state", "zip", "addrPhone")
    }
    | {"country": {"type": "string", "pattern": "^[A-Z]{2}$"}},
    "additionalProperties": False,
}


def _sublist(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"items": {"type": "array", "minItems": 1, "items": item}},
        "required": ["items"],
        "additionalProperties": False,
    }


SALES_ORDER = {
    "type": "object",
    "required": ["externalId", "entity", "subsidiary", "tranDate", "item"],
    "properties": {
        "externalId": _EXTERNAL_ID,
        "entity": _REF,
        "subsidiary": _REF,
        "currency": _REF,
        "tranDate": _DATE,
        "otherRefNum": {"type": "string"},
        "memo": {"type": "string"},
        "email": {"type": "string"},
        "billingAddress": _ADDRESS,
        "shippingAddress": _ADDRESS,
        "shippingCost": _NUMBER,
        "discountItem": _REF,
        "discountRate": _NUMBER,
        "item": _sublist(
            {
                "type": "object",
                "required": ["item", "quantity", "rate"],
                "properties": {
                    "item": _REF,
                    "description": {"type": "string"},
                    "quantity": _NUMBER,
                    "rate": _NUMBER,
                    "amount": _NUMBER,
                    "inventoryLocation": _REF,
                    "isClosed": {"type": "boolean"},
                },
                "additionalProperties": False,
            }
        ),
    },
    "additionalProperties": False,
}
JOURNAL_ENTRY = {
    "type": "object",
    "required": ["externalId", "subsidiary", "tranDate", "currency", "line"],
    "properties": {
        "externalId": _EXTERNAL_ID,
        "subsidiary": _REF,
        "tranDate": _DATE,
        "currency": _REF,
        "exchangeRate": _NUMBER,
        "postingPeriod": _REF,
        "memo": {"type": "string"},
        "line": _sublist(
            {
                "type": "object",
                "required": ["account"],
                "properties": {
                    "account": _REF,
                    "debit": _NUMBER,
                    "credit": _NUMBER,
                    "memo": {"type": "string"},
                    "department": _REF,
                    "class": _REF,
                    "location": _REF,
                },
                "oneOf": [{"required": ["debit"]}, {"required": ["credit"]}],
                "additionalProperties": False,
            }
        ),
    },
    "additionalProperties": False,
}
CUSTOMER = {
    "type": "object",
    "required": ["externalId", "subsidiary", "isPerson"],
    "properties": {
        "externalId": _EXTERNAL_ID,
        "subsidiary": _REF,
        "isPerson": {"type": "boolean"},
        "companyName": {"type": "string"},
        "firstName": {"type": "string"},
        "lastName": {"type": "string"},
        "email": {"type": "string"},
        "phone": {"type": "string"},
        "addressBook": _sublist(
            {
                "type": "object",
                "properties": {
                    "defaultBilling": {"type": "boolean"},
                    "defaultShipping": {"type": "boolean"},
                    "addressBookAddress": _ADDRESS,
                },
                "additionalProperties": False,
            }
        ),
    },
    "additionalProperties": False,
}
INVENTORY_ADJUSTMENT = {
    "type": "object",
    "required": ["externalId", "subsidiary", "account", "adjLocation", "tranDate", "inventory"],
    "properties": {
        "externalId": _EXTERNAL_ID,
        "subsidiary": _REF,
        "account": _REF,
        "adjLocation": _REF,
        "tranDate": _DATE,
        "memo": {"type": "string"},
        "inventory": _sublist(
            {
                "type": "object",
                "required": ["item", "location", "adjustQtyBy"],
                "properties": {
                    "item": _REF,
                    "location": _REF,
                    "adjustQtyBy": {"type": "integer"},
                    "unitCost": _NUMBER,
                },
                "additionalProperties": False,
            }
        ),
    },
    "additionalProperties": False,
}


def _json(body: bytes) -> Any:
    return jsondoc.loads(body)


def _validate(body: bytes, schema: dict[str, Any]) -> Any:
    document = _json(body)
    # jsonschema's "number" accepts Decimal only through a float-free type checker.
    checker = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "number", lambda _checker, value: isinstance(value, int | Decimal) and not isinstance(value, bool)
    )
    validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, type_checker=checker)
    validator(schema).validate(document)
    return document


def test_sales_order_golden_and_structure() -> None:
    doc = netsuite.sales_order(samples.order_event(), samples.NETSUITE)
    assert_golden("netsuite_salesOrder.json", doc)
    body = _validate(doc.body, SALES_ORDER)
    assert doc.method == "PUT"
    assert doc.path == f"/services/rest/record/v1/salesOrder/eid:{body['externalId']}?replace=item"
    lines = body["item"]["items"]
    assert [line["item"] for line in lines] == [{"id": "57"}, {"externalId": "CABLE-USB-C"}]
    assert lines[1]["rate"] == Decimal("4.3333")
    assert str(lines[1]["amount"]) == "13.00"  # 2 places in USD, rounded half up from 12.9999
    assert str(body["shippingCost"]) == "10.00"
    assert str(body["discountRate"]) == "-20.00"
    assert body["tranDate"] == "2024-04-01"  # placed 11:00 -05:00, a New York account date


def test_sales_order_identity_is_stable_across_versions() -> None:
    placed = netsuite.sales_order(samples.order_event(OrderChange.PLACED), samples.NETSUITE)
    updated = netsuite.sales_order(samples.order_event(OrderChange.UPDATED), samples.NETSUITE)
    replayed = netsuite.sales_order(samples.order_event(OrderChange.PLACED), samples.NETSUITE)
    assert placed.external_id == updated.external_id  # the same NetSuite record is upserted
    assert placed.idempotency_key != updated.idempotency_key  # but each version is its own delivery
    assert replayed.idempotency_key == placed.idempotency_key
    assert replayed.body == placed.body


def test_cancelled_order_closes_every_line() -> None:
    doc = netsuite.sales_order(samples.order_event(OrderChange.CANCELLED), samples.NETSUITE)
    lines = _validate(doc.body, SALES_ORDER)["item"]["items"]
    assert all(line["isClosed"] is True for line in lines)


def test_journal_entry_golden_and_balance() -> None:
    doc = netsuite.journal_entry(samples.journal_entry(), samples.NETSUITE)
    assert_golden("netsuite_journalEntry.json", doc)
    body = _validate(doc.body, JOURNAL_ENTRY)
    lines = body["line"]["items"]
    debit = sum(line.get("debit", Decimal(0)) for line in lines)
    credit = sum(line.get("credit", Decimal(0)) for line in lines)
    assert debit == credit == Decimal("423.68")
    assert body["postingPeriod"] == {"id": "148"}


def test_journal_entry_with_unmapped_account_is_rejected_by_name() -> None:
    cfg = samples.NETSUITE.model_copy(update={"account_ids": {"1210": "312"}})
    with pytest.raises(UntranslatableError, match=r"line\.account.*'4000'"):
        netsuite.journal_entry(samples.journal_entry(), cfg)


def test_customer_golden_and_structure() -> None:
    doc = netsuite.customer(samples.golden_customer(), samples.NETSUITE)
    assert_golden("netsuite_customer.json", doc)
    body = _validate(doc.body, CUSTOMER)
    assert doc.path.startswith("/services/rest/record/v1/customer/eid:esb-customer-")
    assert body["isPerson"] is True


def test_inventory_adjustment_golden_and_structure() -> None:
    doc = netsuite.inventory_adjustment(samples.stock_movement(), samples.NETSUITE)
    assert doc is not None
    assert_golden("netsuite_inventoryAdjustment.json", doc)
    body = _validate(doc.body, INVENTORY_ADJUSTMENT)
    assert body["inventory"]["items"][0]["adjustQtyBy"] == -3
    assert (
        netsuite.inventory_adjustment(samples.stock_movement(MovementKind.RECEIPT), samples.NETSUITE) is None
    )
