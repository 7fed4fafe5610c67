"""Shopify Admin REST documents: golden files; field names and types against Shopify's fixtures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from schemas.fulfillment.models import FulfillmentChange, ShipmentLine, Tracking
from services.egress import jsondoc, shopify
from services.egress.errors import UntranslatableError
from tests import egress_support as samples
from tests.contract.egress_golden import assert_golden, conformance

pytestmark = pytest.mark.contract


def test_inventory_level_golden_and_shape() -> None:
    doc = shopify.inventory_level(samples.inventory_level(), samples.SHOPIFY)
    assert doc is not None
    assert_golden("shopify_inventory_level_set.json", doc)
    body = jsondoc.loads(doc.body)
    vendor = json.loads(conformance("shopify/api_2024-04_inventory_level_adjust.json").read_text())[
        "inventory_level"
    ]
    for name, value in body.items():
        assert type(value) is type(vendor[name]), name  # ids and available are integers
    assert body == {"location_id": 655441491, "inventory_item_id": 808950810, "available": 5}
    assert doc.path == "/admin/api/2024-04/inventory_levels/set.json"


def test_inventory_level_is_absolute_and_never_negative() -> None:
    oversold = shopify.inventory_level(samples.inventory_level(available_to_promise=0), samples.SHOPIFY)
    assert oversold is not None
    assert jsondoc.loads(oversold.body)["available"] == 0
    unlisted = samples.inventory_level().model_copy(update={"sku": "NOT-ON-SHOPIFY"})
    assert shopify.inventory_level(unlisted, samples.SHOPIFY) is None


def test_64_bit_ids_are_exact() -> None:
    cfg = samples.SHOPIFY.model_copy(update={"inventory_item_ids": {"IPOD2008GREEN": "820982911946154508"}})
    doc = shopify.inventory_level(samples.inventory_level(), cfg)
    assert doc is not None
    assert b'"inventory_item_id":820982911946154508' in doc.body


def _order_lines() -> list[shopify.OrderLineRef]:
    return samples.shopify_order_lines()


def test_fulfillment_golden_and_shape() -> None:
    doc = shopify.fulfillment(samples.warehouse_shipment(), samples.SHOPIFY, "450789469", _order_lines())
    assert_golden("shopify_fulfillment.json", doc)
    body = jsondoc.loads(doc.body)["fulfillment"]
    # Order line items are addressed as Shopify's own fulfillment shows them: integer ids + quantity.
    vendor = json.loads(conformance("shopify/python_api_fulfillment.json").read_text())["fulfillment"]
    vendor_line = vendor["line_items"][0]
    for line in body["line_items"]:
        assert set(line) == {"id", "quantity"}
        assert type(line["id"]) is type(vendor_line["id"])
        assert type(line["quantity"]) is type(vendor_line["quantity"])
    assert body["line_items"] == [{"id": 466157049, "quantity": 2}, {"id": 518995019, "quantity": 1}]
    assert vendor_line["id"] == 466157049  # the same line item id space as the vendor's sample
    assert body["tracking_info"] == {"number": "1Z999AA10123456784", "company": "UPS"}
    assert type(body["tracking_info"]["number"]) is type(vendor["tracking_number"])
    assert body["notify_customer"] is True
    assert doc.path == "/admin/api/2024-04/fulfillments.json"
    assert doc.probe == "/admin/api/2024-04/orders/450789469/fulfillment_orders.json"
    assert doc.key == str(samples.warehouse_shipment().shipment_id)


def test_one_tracking_number_per_fulfillment_the_rest_in_the_message() -> None:
    shipment = samples.shipment()
    shipment = shipment.model_copy(
        update={"tracking": [*shipment.tracking, Tracking(number="1Z2346"), Tracking(number="1Z2347")]}
    )
    body = jsondoc.loads(shopify.fulfillment(shipment, samples.SHOPIFY, "450789469", _order_lines()).body)
    assert body["fulfillment"]["tracking_info"] == {
        "number": "1Z2345",
        "url": "https://www.ups.com/track?tracknum=1Z2345",
        "company": "UPS",
    }
    assert body["fulfillment"]["message"] == "Further tracking numbers: 1Z2346, 1Z2347"


@pytest.mark.parametrize(
    ("changes", "native_id", "reason"),
    [
        (
            {"lines": [ShipmentLine(sku="NOT-ON-ORDER", quantity=1)]},
            "450789469",
            "shopify.fulfillment: line_items: SKU 'NOT-ON-ORDER' is not on Shopify order 450789469",
        ),
        (
            {"lines": [ShipmentLine(sku="IPOD2008GREEN", quantity=3)]},
            "450789469",
            "shopify.fulfillment: line_items: ships 3 of line 466157049 (SKU 'IPOD2008GREEN') but Shopify"
            " order 450789469 has 2",
        ),
        (
            {"lines": [ShipmentLine(sku="IPOD2008GREEN", quantity=0)]},
            "450789469",
            "shopify.fulfillment: line_items: the shipment has no shipped units",
        ),
        (
            {"change": FulfillmentChange.UPDATED},
            "450789469",
            "shopify.fulfillment: change: UPDATED needs Shopify's fulfillment id",
        ),
        ({}, "#1001", "shopify.fulfillment: order_id: '#1001' is not a Shopify numeric id"),
    ],
)
def test_what_does_not_fit_the_order_is_untranslatable(
    changes: dict[str, Any], native_id: str, reason: str
) -> None:
    shipment = samples.warehouse_shipment(**changes)
    with pytest.raises(UntranslatableError) as raised:
        shopify.fulfillment(shipment, samples.SHOPIFY, native_id, _order_lines())
    assert str(raised.value).startswith(reason)


def test_an_ambiguous_sku_is_untranslatable() -> None:
    lines = [*_order_lines(), shopify.OrderLineRef("999", "IPOD2008GREEN", 1)]
    with pytest.raises(UntranslatableError, match="SKU 'IPOD2008GREEN' is on 2 lines of Shopify order 1"):
        shopify.fulfillment(samples.warehouse_shipment(), samples.SHOPIFY, "1", lines)
