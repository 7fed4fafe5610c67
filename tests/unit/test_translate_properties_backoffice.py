"""Mutated conformance payloads never crash the payments/back-office adapters: every outcome is valid
canonical events or a TranslationError that names a path and what was expected."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.base import AvroRecord
from tests.backoffice_mutations import assert_translates_or_rejects, json_mutation, x12_mutation, xml_mutation
from tests.backoffice_support import CONFORMANCE, translate_raw

pytestmark = pytest.mark.unit

JSON_CASES = [
    ("stripe", "events", "stripe/event_charge.succeeded.json"),
    ("stripe", "events", "stripe/event_charge.refunded.json"),
    ("stripe", "events", "stripe/event_payment_intent.succeeded.json"),
    ("stripe", "events", "stripe/event_payout.paid.json"),
    ("stripe", "balance-transactions", "stripe/openapi_fixture_balance_transaction.json"),
    ("adyen", "notifications", "adyen/notification_authorisation-true.json"),
    ("adyen", "notifications", "adyen/notification_capture-true.json"),
    ("adyen", "notifications", "adyen/notification_refund-true.json"),
    ("business-central", "customers", "business_central/customer_get.json"),
    ("business-central", "sales-orders", "business_central/salesOrder_get.json"),
    ("business-central", "sales-order-lines", "business_central/salesOrderLine_get.json"),
    ("business-central", "journal-lines", "business_central/journalLine_get.json"),
    ("business-central", "item-ledger-entries", "business_central/itemLedgerEntry_get.json"),
]
XML_CASES = [
    ("netsuite", "customers", "netsuite/soap_get_customer.xml"),
    ("netsuite", "invoices", "netsuite/soap_get_invoice.xml"),
    ("netsuite", "item-availability", "netsuite/soap_get_item_availability.xml"),
    ("sap", "orders05", "sap/idoc_ORDERS05_ORDRSP_s4.xml"),
]
X12_CASES = [
    ("edi", "850", "edi_x12/850_vics_4010_nodex12.edi"),
    ("edi", "856", "edi_x12/856_asn_4060_nodex12.edi"),
    ("edi", "940", "edi_x12/940_4010UCS_warehouse_shipping_order_a.edi"),
    ("edi", "945", "edi_x12/945_4010_warehouse_shipping_advice.edi"),
]
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _adapter(system: str, entity: str) -> Callable[[bytes], Sequence[AvroRecord]]:
    return lambda raw: translate_raw(system, entity, raw)


@pytest.mark.parametrize(("system", "entity", "name"), JSON_CASES)
@FUZZ
@given(data=st.data())
def test_mutated_json(system: str, entity: str, name: str, data: st.DataObject) -> None:
    raw = data.draw(json_mutation((CONFORMANCE / name).read_bytes()))
    assert_translates_or_rejects(_adapter(system, entity), raw)


@pytest.mark.parametrize(("system", "entity", "name"), XML_CASES)
@FUZZ
@given(data=st.data())
def test_mutated_xml(system: str, entity: str, name: str, data: st.DataObject) -> None:
    raw = data.draw(xml_mutation((CONFORMANCE / name).read_bytes()))
    assert_translates_or_rejects(_adapter(system, entity), raw)


@pytest.mark.parametrize(("system", "entity", "name"), X12_CASES)
@FUZZ
@given(data=st.data())
def test_mutated_x12(system: str, entity: str, name: str, data: st.DataObject) -> None:
    raw = data.draw(x12_mutation((CONFORMANCE / name).read_bytes()))
    assert_translates_or_rejects(_adapter(system, entity), raw)


@pytest.mark.parametrize(("system", "entity", "name"), XML_CASES)
def test_entity_expansion_is_refused(system: str, entity: str, name: str) -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><x>&b;</x>'
    from services.translator.errors import TranslationError

    with pytest.raises(TranslationError) as error:
        translate_raw(system, entity, bomb)
    assert error.value.expected == "XML without DTD or entity declarations"


@pytest.mark.parametrize(("system", "entity", "name"), JSON_CASES[:3])
def test_bad_utf8_is_a_precise_rejection(system: str, entity: str, name: str) -> None:
    from services.translator.errors import TranslationError

    raw = (CONFORMANCE / name).read_bytes()
    with pytest.raises(TranslationError) as error:
        translate_raw(system, entity, raw[:20] + b"\xff" + raw[20:])
    assert error.value.expected == "UTF-8 text"
