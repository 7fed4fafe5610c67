"""Golden files: X12 850 / 856 / 940 / 945 -> OrderEvent, ShipmentEvent, FulfillmentOrderEvent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from schemas.fulfillment.models import FulfillmentChange, FulfillmentOrderEvent, ShipmentEvent, ShipmentStatus
from schemas.ids import canonical_id
from schemas.orders.models import OrderChange, OrderEvent
from services.translator.adapters.edi_x12 import EdiSettings, routes
from services.translator.adapters.edi_x12.envelope import normalize_isa
from services.translator.errors import TranslationError
from tests.backoffice_support import CONFORMANCE, assert_avro_round_trip, reconcile, record_of, translate

pytestmark = pytest.mark.contract

PO = "edi_x12/850_vics_4010_nodex12.edi"
ASN = "edi_x12/856_asn_4060_nodex12.edi"
WSO = "edi_x12/940_4010UCS_warehouse_shipping_order_a.edi"
WSA = "edi_x12/945_4010_warehouse_shipping_advice.edi"


def test_850_purchase_order() -> None:
    (event,) = translate("edi", "850", PO)
    assert isinstance(event, OrderEvent)
    order = event.order
    assert event.change is OrderChange.PLACED
    assert order.native_id == "08292233294"
    assert order.order_id == canonical_id("edi", "acme", "order", "08292233294")
    assert order.placed_at == datetime(2010, 11, 27, tzinfo=UTC)
    assert order.shop_currency == "USD"  # EdiSettings.default_currency: no CUR segment
    assert len(order.lines) == 6  # CTT01
    assert [line.sku for line in order.lines][:2] == ["AB3542", "RD5322"]  # VN vendor part numbers
    assert order.lines[0].title == "SMALL WIDGET"
    assert reconcile(order) == Decimal("13045.94")  # AMT*1
    assert order.shipping_address is not None
    assert order.shipping_address.city == "SOLON"
    assert_avro_round_trip(event)


def test_850_currency_default_is_configurable() -> None:
    raw = (CONFORMANCE / PO).read_bytes()
    (event,) = routes(EdiSettings(default_currency="CAD"))[("edi", "850")](record_of("edi", "850", raw))
    assert isinstance(event, OrderEvent)
    assert event.order.totals.total.currency == "CAD"


def test_856_ship_notice() -> None:
    (event,) = translate("edi", "856", ASN)
    assert isinstance(event, ShipmentEvent)
    assert event.native_id == "829716/99999817"
    assert event.order_id == canonical_id("edi", "acme", "order", "99999817")  # PRF01
    assert event.status is ShipmentStatus.SHIPPED
    assert event.shipped_at == datetime(2011, 12, 6, tzinfo=UTC)  # DTM*011
    assert [(line.sku, line.quantity) for line in event.lines] == [("87787D", 24), ("99887D", 6)]
    assert sum(line.quantity for line in event.lines) == 30  # CTT02
    assert [t.number for t in event.tracking] == ["5787970539"]
    assert_avro_round_trip(event)


def test_940_warehouse_shipping_order() -> None:
    (event,) = translate("edi", "940", WSO)
    assert isinstance(event, FulfillmentOrderEvent)
    assert event.change is FulfillmentChange.CREATED
    assert event.order_native_id == "538686"
    assert event.location == "0581493780140"  # N1*WH N104
    assert [(line.sku, line.quantity, line.unit_of_measure) for line in event.lines] == [
        ("000100", 12, "CA"), ("000200", 32, "CA"), ("000300", 12, "CA"),
    ]  # fmt: skip
    assert sum(line.quantity for line in event.lines) == 56  # W7601
    assert event.requested_ship_date == datetime(2000, 2, 4, tzinfo=UTC)
    assert event.shipping_method == "MTEN"
    assert_avro_round_trip(event)


def test_945_shipping_advice_with_collapsed_isa() -> None:
    (event,) = translate("edi", "945", WSA)
    assert isinstance(event, ShipmentEvent)
    assert event.native_id == "BOL12345"
    assert event.fulfillment_order_id == canonical_id("edi", "acme", "fulfillment-order", "IF102")
    assert [(line.sku, line.quantity, line.order_line_id) for line in event.lines] == [
        ("123456789", 3000, "10")
    ]
    assert (event.carrier, event.location) == ("NPLT", "CHI")
    assert event.shipped_at == datetime(2019, 6, 4, tzinfo=UTC)
    assert_avro_round_trip(event)


def test_945_segment_count_is_enforced_when_the_partner_profile_says_so() -> None:
    raw = (CONFORMANCE / WSA).read_bytes()
    strict = routes(EdiSettings(enforce_segment_counts=True))[("edi", "945")]
    with pytest.raises(TranslationError) as error:
        strict(record_of("edi", "945", raw))
    assert error.value.path == "segment 18 SE01"
    assert error.value.expected == "16 segments (ST..SE)"


def test_generic_route_dispatches_by_st01_and_specific_routes_refuse_others() -> None:
    raw = (CONFORMANCE / WSO).read_bytes()
    (event,) = routes(EdiSettings())[("edi", "x12")](record_of("edi", "x12", raw))
    assert isinstance(event, FulfillmentOrderEvent)
    with pytest.raises(TranslationError) as error:
        routes(EdiSettings())[("edi", "850")](record_of("edi", "850", raw))
    assert (error.value.expected, error.value.found) == ("850", "'940'")


def test_broken_control_total_is_rejected_with_segment_and_element() -> None:
    raw = (CONFORMANCE / PO).read_bytes().replace(b"CTT*6~", b"CTT*7~")
    with pytest.raises(TranslationError) as error:
        routes(EdiSettings())[("edi", "850")](record_of("edi", "850", raw))
    assert error.value.path == "segment 33 CTT01"


def test_isa_normalization_repads_and_keeps_values() -> None:
    collapsed = b"ISA*00* *00* *ZZ*ME *ZZ*YOU *200901*1409*U*00401*43*0*P*>~GS*SW~"
    fixed = normalize_isa(collapsed)
    assert fixed.index(b"~") == 105
    assert fixed.split(b"*")[13] == b"000000043"
    assert fixed.endswith(b"~GS*SW~")
