"""SAP ORDERS05 IDoc XML: golden file, parse-back round trip, segment and field names checked against
SAP's own S/4 sample, and SAP's number and date formats."""

from __future__ import annotations

import re
from decimal import Decimal
from xml.etree.ElementTree import Element

import pytest
from defusedxml import ElementTree

from schemas.orders.models import OrderChange
from services.egress import sap_idoc
from tests import egress_support as samples
from tests.contract.egress_golden import assert_golden, conformance

pytestmark = pytest.mark.contract


def _parse(body: bytes) -> Element:
    root: Element = ElementTree.fromstring(body)
    return root


def _vendor_fields() -> dict[str, set[str]]:
    """Segment -> field names used in SAP's ORDERS05 sample."""
    root = _parse(conformance("sap/idoc_ORDERS05_ORDRSP_s4.xml").read_bytes())
    fields: dict[str, set[str]] = {}
    for segment in root.iter():
        if segment.get("SEGMENT") == "1":
            fields.setdefault(segment.tag, set()).update(
                child.tag for child in segment if child.get("SEGMENT") is None
            )
    return fields


# ORDERS05 fields the ORDRSP sample does not use (all in the ORDERS05 segment definitions).
_NOT_IN_SAMPLE = {"E1EDKA1": {"NAME2", "STRS2", "TELF1"}}


def test_orders05_golden_and_round_trip() -> None:
    event = samples.order_event()
    doc = sap_idoc.orders05(event, samples.SAP)
    assert_golden("sap_ORDERS05.xml", doc)
    root = _parse(doc.body)
    assert root.tag == "ORDERS05"
    idoc = root.find("IDOC")
    assert idoc is not None
    assert idoc.get("BEGIN") == "1"
    control = idoc.find("EDI_DC40")
    assert control is not None
    assert control.findtext("MESTYP") == "ORDERS"
    assert control.findtext("IDOCTYP") == "ORDERS05"
    assert re.fullmatch(r"\d{16}", control.findtext("DOCNUM") or "")
    assert control.findtext("CREDAT") == "20240401"  # 16:00 UTC in the Chicago system's local time
    assert control.findtext("CRETIM") == "110000"
    orgs = {seg.findtext("QUALF"): seg.findtext("ORGID") for seg in idoc.findall("E1EDK14")}
    assert orgs == {"008": "1710", "007": "10", "006": "00", "012": "TA"}
    partners = {seg.findtext("PARVW"): seg for seg in idoc.findall("E1EDKA1")}
    assert partners["AG"].findtext("PARTN") == "0001000654"
    assert partners["WE"].findtext("REGIO") == "KY"
    items = idoc.findall("E1EDP01")
    assert [item.findtext("POSEX") for item in items] == ["000010", "000020"]
    assert [item.findtext("MENGE") for item in items] == ["2.000", "3.000"]
    assert [item.findtext("MENEE") for item in items] == ["PCE", "PCE"]
    assert [item.findtext("VPREI") for item in items] == ["199.00", "433.33"]
    assert [item.findtext("PEINH") for item in items] == ["1", "100"]  # 4.3333 quoted per 100 units
    assert [item.findtext("E1EDP19/IDTNR") for item in items] == ["MZ-FG-S10", "CABLE-USB-C"]
    # Round trip: quantities x prices add up to the control total, as SAP checks on arrival.
    net = sum(Decimal(item.findtext("NETWR") or "") for item in items)
    totals = {seg.findtext("SUMID"): seg.findtext("SUMME") for seg in idoc.findall("E1EDS01")}
    assert totals == {"001": "2", "002": str(net)}
    assert net == Decimal("411.00")


def test_orders05_uses_sap_field_names_and_text_formats() -> None:
    doc = sap_idoc.orders05(samples.order_event(), samples.SAP)
    vendor = _vendor_fields()
    for segment in _parse(doc.body).iter():
        if segment.get("SEGMENT") != "1":
            continue
        assert segment.tag in vendor, f"segment {segment.tag} is not an ORDERS05 segment of the sample"
        names = {child.tag for child in segment if child.get("SEGMENT") is None}
        unknown = names - vendor[segment.tag] - _NOT_IN_SAMPLE.get(segment.tag, set())
        assert not unknown, f"{segment.tag}: {sorted(unknown)}"
        for child in segment:
            if child.tag in {"MENGE"}:
                assert re.fullmatch(r"\d+\.\d{3}-?", child.text or "")
            if child.tag in {"VPREI", "NETWR"}:
                assert re.fullmatch(r"\d+\.\d{2}-?", child.text or "")
            if child.tag in {"DATUM", "CREDAT"}:
                assert re.fullmatch(r"\d{8}", child.text or "")


def test_change_and_cancellation_are_ordchg_with_actions() -> None:
    changed = _parse(sap_idoc.orders05(samples.order_event(OrderChange.UPDATED), samples.SAP).body)
    cancelled = _parse(sap_idoc.orders05(samples.order_event(OrderChange.CANCELLED), samples.SAP).body)
    assert changed.findtext("IDOC/EDI_DC40/MESTYP") == "ORDCHG"
    assert changed.findtext("IDOC/E1EDK01/ACTION") == "002"
    assert cancelled.findtext("IDOC/E1EDK01/ACTION") == "003"
    assert {item.findtext("ACTION") for item in cancelled.findall("IDOC/E1EDP01")} == {"003"}


def test_negative_numbers_use_sap_trailing_minus() -> None:
    from services.egress.formats import sap_number

    assert sap_number(Decimal("-100"), 2) == "100.00-"
    assert sap_number(Decimal("8"), 3) == "8.000"
