"""EDI X12 940: golden file and a round trip through an independent X12 parser (ansi-x12)."""

from __future__ import annotations

import pytest
from x12 import parse_x12_interchange, tokenize_x12

from schemas.fulfillment.models import FulfillmentChange
from services.egress import x12_940
from tests import egress_support as samples
from tests.contract.egress_golden import assert_golden, conformance

pytestmark = pytest.mark.contract


def _segments(body: bytes) -> list[tuple[str, list[str]]]:
    return [(segment.tag, [e.decode() for e in segment.elements]) for segment in tokenize_x12(body).segments]


def test_940_golden_and_round_trip() -> None:
    doc = x12_940.shipping_order(samples.fulfillment_order(), samples.WMS, 4217)
    assert doc is not None
    assert_golden("x12_940.edi", doc)
    parse_x12_interchange(tokenize_x12(doc.body))  # the envelope is valid: ISA/IEA, GS/GE, ST/SE agree
    segments = _segments(doc.body)
    first_line = doc.body.split(b"\n", 1)[0]
    assert len(first_line) == 106  # ISA is fixed width, terminator included
    tags = [tag for tag, _ in segments]
    assert tags[:3] == ["ISA", "GS", "ST"]
    assert tags[-3:] == ["SE", "GE", "IEA"]
    by_tag = {tag: elements for tag, elements in segments}
    assert by_tag["ISA"][12] == "000004217"
    assert by_tag["GS"][0] == "OW"
    assert by_tag["GS"][5] == by_tag["GE"][1] == "4217"
    assert by_tag["IEA"][1] == "000004217"
    assert by_tag["W05"][:3] == ["N", doc.external_id, "#1001"]
    st, se = tags.index("ST"), tags.index("SE")
    assert int(by_tag["SE"][0]) == se - st + 1
    quantities = [int(elements[0]) for tag, elements in segments if tag == "W01"]
    assert quantities == [2, 3]
    assert int(by_tag["W76"][0]) == sum(quantities)
    skus = [elements[4] for tag, elements in segments if tag == "W01"]
    assert skus == ["IPOD2008GREEN", "CABLE-USB-C"]
    parties = {elements[0]: elements for tag, elements in segments if tag == "N1"}
    assert parties["WH"][3] == "0581493780140"


def test_940_segments_follow_the_vendor_sample() -> None:
    """Our segment vocabulary is the one the 3PL's own 940 uses."""
    vendor = {
        tag
        for tag, _ in _segments(
            conformance("edi_x12/940_4010UCS_warehouse_shipping_order_a.edi").read_bytes()
        )
    }
    doc = x12_940.shipping_order(samples.fulfillment_order(), samples.WMS, 1)
    assert doc is not None
    ours = {tag for tag, _ in _segments(doc.body)}
    assert ours <= vendor, sorted(ours - vendor)


def test_940_status_codes_and_delimiter_safety() -> None:
    cancelled = x12_940.shipping_order(samples.fulfillment_order(FulfillmentChange.CANCELLED), samples.WMS, 2)
    assert cancelled is not None
    assert dict(_segments(cancelled.body))["W05"][0] == "C"
    tricky = samples.fulfillment_order().model_copy(update={"shipping_method": "2nd*Day~Air>"})
    doc = x12_940.shipping_order(tricky, samples.WMS, 3)
    assert doc is not None
    assert dict(_segments(doc.body))["NTE"] == ["WHI", "SHIP VIA 2nd Day Air"]


def test_940_is_only_for_this_3pls_warehouses() -> None:
    elsewhere = samples.fulfillment_order().model_copy(update={"location": "STORE-NYC"})
    assert x12_940.shipping_order(elsewhere, samples.WMS, 5) is None
