"""Shopify Admin REST documents: golden files; field names and types against Shopify's fixtures."""

from __future__ import annotations

import json

import pytest

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


def test_fulfillment_golden_and_shape() -> None:
    doc = shopify.fulfillment(samples.shipment(), samples.SHOPIFY, {"466157049": (1046000778, 1025578633)})
    assert_golden("shopify_fulfillment.json", doc)
    body = jsondoc.loads(doc.body)["fulfillment"]
    vendor = json.loads(conformance("shopify/python_api_fulfillment.json").read_text())["fulfillment"]
    assert body["tracking_info"]["number"] in vendor["tracking_numbers"] or body["tracking_info"]["number"]
    assert body["line_items_by_fulfillment_order"] == [
        {
            "fulfillment_order_id": 1046000778,
            "fulfillment_order_line_items": [{"id": 1025578633, "quantity": 2}],
        }
    ]
    with pytest.raises(UntranslatableError, match="466157049"):
        shopify.fulfillment(samples.shipment(), samples.SHOPIFY, {})
