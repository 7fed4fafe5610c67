"""Microsoft Dynamics 365 Business Central API v2.0 -> canonical events.

* customer -> ``CustomerEvent``; salesOrder (with ``$expand=salesOrderLines``) -> ``OrderEvent``
  (``business_central_orders``); itemLedgerEntry -> ``StockMovementEvent`` (signed quantity);
* journalLine -> a documented rejection: an API journal line is one *unposted* side of an entry whose
  balancing account API v2.0 does not expose, so it cannot be a balanced, posted journal entry;
* a lone salesOrderLine -> a documented rejection: lines are translated inside their order.

Dates are ``YYYY-MM-DD`` in the company's time zone (``0001-01-01`` = empty), instants are UTC ``Z``;
enum captions come XML-encoded (``Positive_x0020_Adjmt_x002E_``). Empty ``currencyCode`` is the
local currency, taken from ``BusinessCentralSettings``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

from schemas.base import AvroRecord
from schemas.common.models import Address, DocumentRef
from schemas.customers.models import CustomerChange, CustomerEvent, SourceCustomer
from schemas.inventory.models import MovementKind, StockMovementEvent
from services.translator.convert import (
    build,
    canonical,
    day_start,
    guarded,
    money,
    quantize_money,
    whole,
    zone,
)
from services.translator.errors import TranslationError
from services.translator.ingress import IngressRecord
from services.translator.json_reader import JsonNode, parse_json
from services.translator.metadata import event_metadata
from services.translator.registry import Translate

__all__ = [
    "ENTRY_TYPES",
    "ROUTES",
    "BusinessCentralSettings",
    "bc_address",
    "bc_date",
    "bc_instant",
    "bc_text",
    "decode_caption",
    "routes",
]

_ENCODED = re.compile(r"_x([0-9A-Fa-f]{4})_")


@dataclass(frozen=True, slots=True)
class BusinessCentralSettings:
    local_currency: str = "USD"
    """the company's LCY: used when ``currencyCode`` is empty and for item ledger costs"""
    timezone: str = "UTC"
    """the company's zone: date-only fields start at midnight there"""
    default_location: str = "bc-default"
    """location code when an item ledger entry names none (API v2.0 exposes no locationCode)"""


def decode_caption(value: str) -> str:
    """``Positive_x0020_Adjmt_x002E_`` -> ``Positive Adjmt.``; ``_x0020_`` -> ``""`` (blank option)."""
    return _ENCODED.sub(lambda match: chr(int(match.group(1), 16)), value).strip()


def bc_date(node: JsonNode) -> date | None:
    """``YYYY-MM-DD``; ``0001-01-01`` is BC's empty date."""
    raw = node.opt_text()
    if raw is None or raw == "0001-01-01":
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as error:
        raise TranslationError(node.path, "date YYYY-MM-DD", raw) from error


def bc_instant(node: JsonNode) -> datetime | None:
    """``lastModifiedDateTime``; ``0001-01-01T00:00:00Z`` means never."""
    raw = node.opt_text()
    if raw is None or raw.startswith("0001-01-01"):
        return None
    return node.timestamp()


def bc_text(node: JsonNode) -> str | None:
    """Blank strings and single-space enum values are "not set"."""
    return node.opt_text()


def bc_address(node: JsonNode, prefix: str = "") -> Address | None:
    """The customer's address, or a salesOrder's ``sellTo``/``billTo``/``shipTo`` one."""

    def part(name: str) -> str | None:
        if not prefix:
            return bc_text(node[name])
        # orders say "shipToPostCode" where the customer says "postalCode"
        key = f"{prefix}PostCode" if name == "postalCode" else f"{prefix}{name[0].upper()}{name[1:]}"
        return bc_text(node[key])

    lines = [line for line in (part("addressLine1"), part("addressLine2")) if line]
    address = Address(
        name=bc_text(node[f"{prefix}Name"]) if prefix else None,
        street_lines=lines,
        city=part("city"),
        region_code=part("state"),
        postal_code=part("postalCode"),
        country_code=part("country"),
    )
    return None if address == Address() else address


def translate_customer(record: IngressRecord) -> Sequence[AvroRecord]:
    body = parse_json(record.raw)
    native_id = body["id"].text()
    kind = body["type"].opt_text() or "Company"
    name = bc_text(body["displayName"])
    first, _, last = (name or "").partition(" ") if kind == "Person" else ("", "", "")
    address = bc_address(body)
    updated_at = bc_instant(body["lastModifiedDateTime"])
    if updated_at is None:
        raise TranslationError(
            body["lastModifiedDateTime"].path, "ISO-8601 instant", body["lastModifiedDateTime"].value
        )
    blocked = bc_text(body["blocked"])
    customer = build(
        SourceCustomer,
        body.path,
        customer_id=canonical(record, "customer", native_id, body["id"].path),
        native_id=native_id,
        email=bc_text(body["email"]),
        phone=bc_text(body["phoneNumber"]),
        first_name=first or None,
        last_name=last or None,
        company=name if kind != "Person" else None,
        addresses=[address] if address else [],
        default_address_index=0 if address else None,
        state=f"blocked:{blocked}" if blocked else "active",
        tax_exempt=not body["taxLiable"].opt_boolean(True),
        updated_at=updated_at,
    )
    metadata = event_metadata(
        record, event_type="customer.updated", entity="customer", native_id=native_id, occurred_at=updated_at
    )
    return [CustomerEvent(metadata=metadata, change=CustomerChange.UPDATED, customer=customer)]


# Item ledger entry type -> (movement kind for a positive quantity, for a negative one).
ENTRY_TYPES: Mapping[str, tuple[MovementKind | None, MovementKind | None]] = {
    "Purchase": (MovementKind.RECEIPT, MovementKind.ADJUSTMENT),  # negative: purchase return
    "Sale": (MovementKind.RETURN_RESTOCK, MovementKind.SHIPMENT),  # positive: sales return
    "Positive Adjmt.": (MovementKind.ADJUSTMENT, None),
    "Negative Adjmt.": (None, MovementKind.ADJUSTMENT),
    "Transfer": (MovementKind.TRANSFER_IN, MovementKind.TRANSFER_OUT),
    "Consumption": (MovementKind.ADJUSTMENT, MovementKind.ADJUSTMENT),
    "Output": (MovementKind.RECEIPT, MovementKind.ADJUSTMENT),
    "Assembly Consumption": (MovementKind.ADJUSTMENT, MovementKind.ADJUSTMENT),
    "Assembly Output": (MovementKind.RECEIPT, MovementKind.ADJUSTMENT),
}


def translate_item_ledger_entry(
    settings: BusinessCentralSettings, record: IngressRecord
) -> Sequence[AvroRecord]:
    body = parse_json(record.raw)
    native_id = body["id"].text()
    entry_type = decode_caption(body["entryType"].text())
    quantity = whole(body["quantity"].decimal(), body["quantity"].path)
    kinds = ENTRY_TYPES.get(entry_type)
    if kinds is None:
        raise TranslationError(body["entryType"].path, f"one of {sorted(ENTRY_TYPES)}", entry_type)
    kind = kinds[0] if quantity > 0 else kinds[1]
    if kind is None or quantity == 0:
        raise TranslationError(body["quantity"].path, f"a quantity whose sign fits {entry_type!r}", quantity)
    posting = bc_date(body["postingDate"])
    if posting is None:
        raise TranslationError(body["postingDate"].path, "posting date", body["postingDate"].value)
    cost = body["costAmountActual"].opt_decimal()
    unit_cost = None
    if cost is not None:
        unit_cost = money(
            quantize_money(abs(cost) / abs(quantity)), settings.local_currency, body["costAmountActual"].path
        )
    document_type = decode_caption(body["documentType"].opt_text() or "")
    document = bc_text(body["documentNumber"])
    metadata = event_metadata(
        record,
        event_type=f"stock.{kind.value.lower()}",
        entity="item_ledger_entry",
        native_id=native_id,
        occurred_at=day_start(posting, zone(settings.timezone)),
    )
    return [
        build(
            StockMovementEvent,
            body.path,
            metadata=metadata,
            movement_id=canonical(record, "item_ledger_entry", native_id, body["id"].path),
            kind=kind,
            sku=body["itemNumber"].text(),
            location=bc_text(body["locationCode"]) or settings.default_location,
            quantity=quantity,
            reference=DocumentRef(
                type=document_type or "item_ledger_document", id=document, system="business-central"
            )
            if document
            else None,
            reason=entry_type,
            unit_cost=unit_cost,
        )
    ]


def translate_journal_line(record: IngressRecord) -> Sequence[AvroRecord]:
    """Always a rejection, after the line itself was read (so a malformed one says what is wrong)."""
    body = parse_json(record.raw)
    amount = body["amount"].decimal()
    line = body["lineNumber"].integer()
    journal = body["journalDisplayName"].opt_text() or body["journalId"].text()
    raise TranslationError(
        "$",
        "a posted, balanced journal entry (debits = credits)",
        f"unposted journalLine {line} of journal {journal}, amount {amount}",
        "a journal line is one side of an entry balanced through a balancing account API v2.0 does not "
        "expose; post the journal and translate generalLedgerEntries instead",
    )


def translate_sales_order_line(record: IngressRecord) -> Sequence[AvroRecord]:
    body = parse_json(record.raw)
    raise TranslationError(
        "$",
        "a salesOrder with $expand=salesOrderLines",
        f"a lone salesOrderLine of document {body['documentId'].text()}",
        "a line has no currency, customer or order date: it is translated inside its order",
    )


def routes(settings: BusinessCentralSettings) -> Mapping[tuple[str, str], Translate]:
    from services.translator.adapters.business_central_orders import translate_sales_order

    return {
        ("business-central", "customers"): guarded(translate_customer),
        ("business-central", "sales-orders"): guarded(partial(translate_sales_order, settings)),
        ("business-central", "sales-order-lines"): guarded(translate_sales_order_line),
        ("business-central", "item-ledger-entries"): guarded(partial(translate_item_ledger_entry, settings)),
        ("business-central", "journal-lines"): guarded(translate_journal_line),
    }


ROUTES = routes(BusinessCentralSettings())
