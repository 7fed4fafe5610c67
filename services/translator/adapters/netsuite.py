"""NetSuite SuiteTalk SOAP (``get`` / ``getItemAvailability`` responses) -> canonical events.

* customer -> ``CustomerEvent`` (a snapshot: change UPDATED);
* invoice -> ``OrderEvent`` (channel ``netsuite``, keyed by the invoice): the ERP's billed order,
  with its lines, totals and the open balance in ``totals.outstanding``;
* item availability -> ``StockMovementEvent`` ABSOLUTE_COUNT per item and location: the ERP's
  on-hand is a count for the inventory projector, which computes reserved/available itself.

SOAP carries no ISO currency on a single-currency account and only a currency *record* reference on
a multi-currency one, so both come from ``NetSuiteSettings``. dateTimes carry the account's offset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from schemas.base import AvroRecord
from schemas.common.models import Address, DocumentRef
from schemas.customers.models import CustomerChange, CustomerEvent, SourceCustomer
from schemas.inventory.models import MovementKind, StockMovementEvent
from services.translator.adapters.netsuite_invoice import invoice_event
from services.translator.convert import build, canonical, guarded, whole
from services.translator.errors import TranslationError
from services.translator.ingress import IngressRecord
from services.translator.metadata import event_metadata
from services.translator.registry import Translate
from services.translator.xml_reader import XmlNode, parse_xml

__all__ = ["COUNTRIES", "ROUTES", "NetSuiteSettings", "country_code", "read_record", "routes"]


@dataclass(frozen=True, slots=True)
class NetSuiteSettings:
    default_currency: str = "USD"
    """the account's base currency, used when the record has no ``currency`` reference"""
    currencies: Mapping[str, str] = field(default_factory=dict)
    """currency record internalId -> ISO 4217 (NetSuite currency names are free text)"""
    locations: Mapping[str, str] = field(default_factory=dict)
    """location internalId -> canonical location code (default: ``netsuite-<internalId>``)"""


# SuiteTalk Country enum -> ISO 3166-1 alpha-2 (the countries our accounts trade with).
COUNTRIES: Mapping[str, str] = {
    "_unitedStates": "US", "_canada": "CA", "_mexico": "MX", "_unitedKingdom": "GB", "_ireland": "IE",
    "_germany": "DE", "_france": "FR", "_italy": "IT", "_spain": "ES", "_portugal": "PT",
    "_netherlands": "NL", "_belgium": "BE", "_luxembourg": "LU", "_switzerland": "CH", "_austria": "AT",
    "_denmark": "DK", "_sweden": "SE", "_norway": "NO", "_finland": "FI", "_poland": "PL",
    "_czechRepublic": "CZ", "_hungary": "HU", "_greece": "GR", "_australia": "AU", "_newZealand": "NZ",
    "_japan": "JP", "_china": "CN", "_hongKong": "HK", "_singapore": "SG", "_korea": "KR",
    "_india": "IN", "_brazil": "BR", "_argentina": "AR", "_chile": "CL", "_southAfrica": "ZA",
    "_israel": "IL", "_unitedArabEmirates": "AE", "_taiwan": "TW", "_puertoRico": "PR",
}  # fmt: skip


def country_code(node: XmlNode) -> str | None:
    raw = node.opt_text()
    if raw is None:
        return None
    code = COUNTRIES.get(raw)
    if code is None:
        raise TranslationError(node.path, "a SuiteTalk country enum we map (see COUNTRIES)", raw)
    return code


def read_record(raw: bytes, expected_type: str) -> XmlNode:
    """``Envelope/Body/getResponse/readResponse/record`` after checking ``status/@isSuccess``."""
    read = parse_xml(raw).find("Body", "getResponse", "readResponse").require()
    status = read.child("status").require()
    if status.required_attr("isSuccess") != "true":
        message = status.find("statusDetail", "message").opt_text()
        raise TranslationError(f"{status.path}/@isSuccess", "true", "false", message)
    record = read.child("record").require()
    record_type = (record.attr("type") or "").rpartition(":")[2]
    if record_type != expected_type:
        raise TranslationError(f"{record.path}/@xsi:type", expected_type, record_type or None)
    return record


def _address(book: XmlNode) -> Address:
    return Address(
        name=book.child("addressee").opt_text() or book.child("attention").opt_text(),
        street_lines=[
            line for name in ("addr1", "addr2", "addr3") if (line := book.child(name).opt_text()) is not None
        ],
        city=book.child("city").opt_text(),
        region_code=book.child("state").opt_text(),
        postal_code=book.child("zip").opt_text(),
        country_code=country_code(book.child("country")),
        phone=book.child("addrPhone").opt_text(),
    )


def translate_customer(record: IngressRecord) -> Sequence[AvroRecord]:
    customer = read_record(record.raw, "Customer")
    native_id = customer.required_attr("internalId")
    books = list(customer.child("addressbookList").children("addressbook"))
    default_index = next(
        (i for i, book in enumerate(books) if book.child("defaultBilling").opt_boolean(False)), None
    )
    is_person = customer.child("isPerson").opt_boolean(False)
    updated_at = customer.child("lastModifiedDate").opt_timestamp()
    created_at = customer.child("dateCreated").opt_timestamp()
    occurred_at = updated_at or created_at
    if occurred_at is None:
        raise TranslationError(f"{customer.path}/lastModifiedDate", "xsd:dateTime", None)
    source = build(
        SourceCustomer,
        customer.path,
        customer_id=canonical(record, "customer", native_id),
        native_id=native_id,
        email=customer.child("email").opt_text(),
        phone=customer.child("phone").opt_text(),
        first_name=customer.child("firstName").opt_text() if is_person else None,
        last_name=customer.child("lastName").opt_text() if is_person else None,
        company=customer.child("companyName").opt_text(),
        addresses=[_address(book) for book in books],
        default_address_index=default_index,
        state="inactive" if customer.child("isInactive").opt_boolean(False) else "active",
        # NetSuite "taxable=false" on a customer is an exempt customer.
        tax_exempt=not customer.child("taxable").opt_boolean(True),
        created_at=created_at,
        updated_at=updated_at,
    )
    metadata = event_metadata(
        record, event_type="customer.updated", entity="customer", native_id=native_id, occurred_at=occurred_at
    )
    return [CustomerEvent(metadata=metadata, change=CustomerChange.UPDATED, customer=source)]


def translate_item_availability(settings: NetSuiteSettings, record: IngressRecord) -> Sequence[AvroRecord]:
    result = parse_xml(record.raw).find("Body", "getItemAvailabilityResponse", "getItemAvailabilityResult")
    status = result.require().child("status").require()
    if status.required_attr("isSuccess") != "true":
        raise TranslationError(f"{status.path}/@isSuccess", "true", "false")
    events: list[AvroRecord] = []
    for row in result.child("itemAvailabilityList").children("itemAvailability"):
        item = row.child("item").require()
        location_ref = row.child("locationId").require()
        location_id = location_ref.required_attr("internalId")
        location = settings.locations.get(location_id, f"netsuite-{location_id}")
        sku = item.child("name").text()
        counted_at = row.child("lastQtyAvailableChange").timestamp()
        on_hand = row.child("quantityOnHand")
        native_id = f"{item.required_attr('internalId')}@{location_id}@{counted_at.isoformat()}"
        metadata = event_metadata(
            record,
            event_type="stock.counted",
            entity="item_availability",
            native_id=native_id,
            occurred_at=counted_at,
        )
        events.append(
            build(
                StockMovementEvent,
                row.path,
                metadata=metadata,
                movement_id=canonical(record, "item_availability", native_id),
                kind=MovementKind.ABSOLUTE_COUNT,
                sku=sku,
                location=location,
                quantity=whole(on_hand.decimal(), on_hand.path),
                reference=DocumentRef(type="item_availability", id=native_id, system="netsuite"),
                reason=f"NetSuite on hand at {location_ref.child('name').opt_text() or location_id}",
            )
        )
    return events


def translate_invoice(settings: NetSuiteSettings, record: IngressRecord) -> Sequence[AvroRecord]:
    invoice = read_record(record.raw, "Invoice")
    currency_ref = invoice.child("currency")
    currency = settings.default_currency
    if currency_ref.is_present:
        internal_id = currency_ref.required_attr("internalId")
        if internal_id not in settings.currencies:
            raise TranslationError(
                f"{currency_ref.path}/@internalId",
                "a currency internalId mapped in NetSuiteSettings",
                internal_id,
            )
        currency = settings.currencies[internal_id]
    return [invoice_event(record, invoice, currency, partial(_address_from, invoice))]


def _address_from(invoice: XmlNode, element: str, prefix: str) -> Address | None:
    node = invoice.child(element)
    if node.is_absent:
        return None
    return Address(
        name=node.child(f"{prefix}Addressee").opt_text() or node.child(f"{prefix}Attention").opt_text(),
        street_lines=[
            line for n in ("1", "2", "3") if (line := node.child(f"{prefix}Addr{n}").opt_text()) is not None
        ],
        city=node.child(f"{prefix}City").opt_text(),
        region_code=node.child(f"{prefix}State").opt_text(),
        postal_code=node.child(f"{prefix}Zip").opt_text(),
        country_code=country_code(node.child(f"{prefix}Country")),
        phone=node.child(f"{prefix}Phone").opt_text(),
    )


def routes(settings: NetSuiteSettings) -> Mapping[tuple[str, str], Translate]:
    """The routes with this account's settings (the composition root passes real ones)."""
    return {
        ("netsuite", "customers"): guarded(translate_customer),
        ("netsuite", "invoices"): guarded(partial(translate_invoice, settings)),
        ("netsuite", "item-availability"): guarded(partial(translate_item_availability, settings)),
    }


ROUTES = routes(NetSuiteSettings())
