"""Golden file: SAP ORDERS05 / MESTYP ORDRSP IDoc -> OrderEvent (control totals checked)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from schemas.ids import canonical_id
from schemas.orders.models import OrderChange, OrderEvent
from services.translator.adapters.sap import SapSettings, routes
from services.translator.errors import TranslationError
from tests.backoffice_support import CONFORMANCE, assert_avro_round_trip, reconcile, record_of, translate

pytestmark = pytest.mark.contract

IDOC = "sap/idoc_ORDERS05_ORDRSP_s4.xml"


def test_order_confirmation() -> None:
    (event,) = translate("sap", "orders05", IDOC)
    assert isinstance(event, OrderEvent)
    order = event.order
    assert event.change is OrderChange.UPDATED
    assert order.source_status == "ORDRSP"
    assert order.order_id == canonical_id("sap", "acme", "order", "0000347163")
    assert order.display_number == "347163"
    assert order.placed_at == datetime(2023, 10, 4, 18, 0, 9, tzinfo=UTC)  # E1EDK03 025 + UZEIT
    assert event.metadata.occurred_at == datetime(2023, 10, 4, 18, 0, 11, tzinfo=UTC)  # EDI_DC40
    assert [line.line_id for line in order.lines] == ["000010", "000020", "000030", "000040"]
    assert [line.sku for line in order.lines] == ["MZ-FG-S100", "MZ-FG-S200", "MZ-FG-S300", "MZ-FG-S400"]
    assert {line.quantity for line in order.lines} == {8}
    assert order.lines[0].unit_price.amount == Decimal("5250.00")
    assert reconcile(order) == Decimal("158672.00")
    assert order.customer is not None
    assert order.customer.native_id == "0001000654"  # AG sold-to
    assert order.shipping_address is not None
    assert order.shipping_address.region_code == "TX"  # WE
    assert order.attributes["org_008"] == "1710"
    assert_avro_round_trip(event)


def test_local_time_is_converted_with_the_configured_zone() -> None:
    raw = (CONFORMANCE / IDOC).read_bytes()
    (event,) = routes(SapSettings(timezone="America/Chicago"))[("sap", "orders05")](
        record_of("sap", "orders05", raw)
    )
    assert isinstance(event, OrderEvent)
    assert event.order.placed_at == datetime(2023, 10, 4, 23, 0, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("old", "new", "path_end"),
    [
        (b"<SUMME>158672.00</SUMME>", b"<SUMME>158673.00</SUMME>", "E1EDS01[2]/SUMME"),
        (b"<SUMME>4</SUMME>", b"<SUMME>5</SUMME>", "E1EDS01[1]/SUMME"),
        (b"<MESTYP>ORDRSP</MESTYP>", b"<MESTYP>INVOIC</MESTYP>", "EDI_DC40/MESTYP"),
        (b"<MENGE>8.000</MENGE>", b"<MENGE>8.500</MENGE>", "E1EDP01[1]/MENGE"),
    ],
)
def test_inconsistent_idoc_is_rejected_at_its_path(old: bytes, new: bytes, path_end: str) -> None:
    raw = (CONFORMANCE / IDOC).read_bytes().replace(old, new, 1)
    with pytest.raises(TranslationError) as error:
        routes(SapSettings())[("sap", "orders05")](record_of("sap", "orders05", raw))
    assert error.value.path.endswith(path_end)


def test_trailing_minus_is_negative() -> None:
    raw = (
        (CONFORMANCE / IDOC).read_bytes().replace(b"<NETWR>42000.00</NETWR>", b"<NETWR>42000.00-</NETWR>", 1)
    )
    with pytest.raises(TranslationError) as error:  # the sign flips NETWR, so SUMID 002 no longer matches
        routes(SapSettings())[("sap", "orders05")](record_of("sap", "orders05", raw))
    assert "sum of item NETWR 74672.00" in error.value.expected
