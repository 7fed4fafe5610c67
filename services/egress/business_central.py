"""Business Central API v2.0 documents: salesOrders (+ salesOrderLines), customers, journalLines.

Business Central has no upsert by external key and no idempotency header, so every document is a
``POST`` with a **probe**: an OData query on a field that carries our deterministic reference
(``externalDocumentNumber`` Code[35], customer ``number`` Code[20], journal line ``documentNumber`` +
``lineNumber``). The connector runs the probe first and treats a hit as already delivered.
Amounts are JSON numbers, dates ``YYYY-MM-DD``; an empty ``currencyCode`` means the local currency.
A sales order is one deep insert: the header with its ``salesOrderLines``.

Order changes (UPDATED, CANCELLED) cannot be one request: Business Central has no deep PATCH, and
every PATCH/DELETE needs the entity's current ``@odata.etag`` in ``If-Match``, which only Business
Central knows. So egress writes a ``salesOrderChange`` document: the order's *desired* state (the
header fields we own and the item lines), or ``"change": "CANCELLED"``. The delivery connector reads
the order (the probe, with ``$expand=salesOrderLines``), diffs and sends the PATCH/POST/DELETE calls
with the current etags (``services/connectors/business_central_order.py``). Cancelling deletes the
sales order (v2.0 has no cancel action; DELETE is how an unshipped order is withdrawn).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from schemas.common.models import Address
from schemas.customers.models import GoldenCustomer
from schemas.ledger.models import EntrySide, JournalEntryEvent, JournalLine
from schemas.orders.models import OrderChange, OrderEvent, OrderLine
from services.egress import formats, jsondoc
from services.egress.document import EgressDocument, Method
from services.egress.errors import UntranslatableError
from services.egress.keys import document_number, idempotency_key
from services.egress.settings import BusinessCentralTarget

__all__ = ["CHANGE_DOCUMENT", "customer", "journal_lines", "sales_order"]

SYSTEM = "business-central"
CHANGE_DOCUMENT = "business-central.salesOrderChange"
_API = "/api/v2.0"
# Header fields a change keeps in step with the order; the rest (customer, currency, dates, prices
# including tax) is fixed at creation: changing them re-validates every line in Business Central.
_ADDRESS_FIELDS = ("Name", "AddressLine1", "AddressLine2", "City", "State", "Country", "PostCode")


def _company(cfg: BusinessCentralTarget) -> str:
    return f"{_API}/companies({cfg.company_id})"


def _odata_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sales_order(
    event: OrderEvent, cfg: BusinessCentralTarget, version: str | None = None
) -> EgressDocument | None:
    """A new order as a deep insert; UPDATED/CANCELLED as a change document; other changes: None."""
    order = event.order
    document = "business-central.salesOrder"
    if event.change in (OrderChange.UPDATED, OrderChange.CANCELLED):
        return _sales_order_change(event, cfg, version)
    if event.change is not OrderChange.PLACED:
        return None
    body = _deep_insert(event, cfg, document)
    reference = body["externalDocumentNumber"]
    key = str(order.order_id)
    return EgressDocument(
        system=SYSTEM,
        entity="sales-orders",
        document_type=document,
        key=key,
        idempotency_key=idempotency_key(document, key, version or str(event.metadata.event_id)),
        external_id=reference,
        account=cfg.account,
        method=Method.POST,
        path=f"{_company(cfg)}/salesOrders",
        content_type="application/json",
        body=jsondoc.dumps(body),
        probe=f"{_company(cfg)}/salesOrders?$filter=externalDocumentNumber eq {_odata_text(reference)}",
    )


def _deep_insert(
    event: OrderEvent, cfg: BusinessCentralTarget, document: str, *, removed_lines: bool = True
) -> dict[str, Any]:
    """The salesOrder with its salesOrderLines as one POST body (``removed_lines``: keep 0-unit lines)."""
    order = event.order
    customer_number = cfg.customer_numbers.get(order.channel)
    if customer_number is None:
        raise UntranslatableError(document, "customerNumber", f"no customer for channel {order.channel!r}")
    currency = "" if order.shop_currency == cfg.local_currency else order.shop_currency
    body: dict[str, Any] = {
        "externalDocumentNumber": document_number(order.order_id, 35),
        "orderDate": order.placed_at.astimezone(cfg.zone).date().isoformat(),
        "customerNumber": customer_number,
        "currencyCode": currency,
        "pricesIncludeTax": order.taxes_included,
    }
    if order.customer is not None:
        if order.customer.email:
            body["email"] = order.customer.email
        if order.customer.phone:
            body["phoneNumber"] = order.customer.phone
    if order.shipping_address is not None:
        body.update(_address("shipTo", order.shipping_address, with_name=True))
    if order.billing_address is not None:
        body.update(_address("billTo", order.billing_address, with_name=True))
    body["salesOrderLines"] = [
        {"sequence": index * 10000, **_line(line, cfg, document)}
        for index, line in enumerate(order.lines, start=1)
        if removed_lines or line.quantity > 0
    ]
    return body


def _line(line: OrderLine, cfg: BusinessCentralTarget, document: str) -> dict[str, Any]:
    if not line.sku:
        raise UntranslatableError(document, "salesOrderLines.lineObjectNumber", "line without SKU")
    discount = sum((d.amount.amount for d in line.discount_allocations), Decimal(0))
    return {
        "lineType": "Item",
        "lineObjectNumber": cfg.item_numbers.get(line.sku, line.sku),
        "description": line.title[:100],
        "quantity": line.quantity,
        "unitPrice": formats.unit_price(line.unit_price),
        "discountAmount": formats.amount_of(discount, line.unit_price.currency),
    }


def _sales_order_change(event: OrderEvent, cfg: BusinessCentralTarget, version: str | None) -> EgressDocument:
    """The order's desired state (or its cancellation), keyed like the deep insert.

    Every field the change owns is present, empty text included, so a removed address line or
    e-mail is cleared in Business Central rather than left as it was. Lines with no units left
    (removed on the storefront) are not listed: the connector deletes them.
    """
    order = event.order
    reference = document_number(order.order_id, 35)
    body: dict[str, Any] = {"externalDocumentNumber": reference, "change": event.change.value}
    if event.change is OrderChange.UPDATED:
        customer = order.customer
        header: dict[str, Any] = {
            "email": (customer.email if customer else None) or "",
            "phoneNumber": (customer.phone if customer else None) or "",
        }
        for prefix, address in (("shipTo", order.shipping_address), ("billTo", order.billing_address)):
            given = _address(prefix, address, with_name=True) if address is not None else {}
            header.update({f"{prefix}{name}": given.get(f"{prefix}{name}", "") for name in _ADDRESS_FIELDS})
        body["salesOrder"] = header
        body["salesOrderLines"] = [
            _line(line, cfg, CHANGE_DOCUMENT) for line in order.lines if line.quantity > 0
        ]
        # When Business Central has no such order (the PLACED version was never sent: it came late,
        # or only this version was known when the router released the order), this creates it.
        body["create"] = _deep_insert(event, cfg, CHANGE_DOCUMENT, removed_lines=False)
    key = str(order.order_id)
    return EgressDocument(
        system=SYSTEM,
        entity="sales-orders",  # the deep insert's topic: one order's documents stay in order
        document_type=CHANGE_DOCUMENT,
        key=key,
        idempotency_key=idempotency_key(CHANGE_DOCUMENT, key, version or str(event.metadata.event_id)),
        external_id=reference,
        account=cfg.account,
        method=Method.DELETE if event.change is OrderChange.CANCELLED else Method.PATCH,
        path=f"{_company(cfg)}/salesOrders",  # the connector appends ({id}) once it found the order
        content_type="application/json",
        body=jsondoc.dumps(body),
        probe=(
            f"{_company(cfg)}/salesOrders?$filter=externalDocumentNumber eq {_odata_text(reference)}"
            "&$expand=salesOrderLines"
        ),
    )


def _address(prefix: str, value: Address, *, with_name: bool) -> dict[str, Any]:
    lines = value.street_lines
    fields = {
        f"{prefix}Name": (value.company or value.name) if with_name else None,
        f"{prefix}AddressLine1": lines[0][:100] if lines else None,
        f"{prefix}AddressLine2": " ".join(lines[1:])[:50] if len(lines) > 1 else None,
        f"{prefix}City": value.city,
        f"{prefix}State": (value.region_code or "").rpartition("-")[2] or value.region,
        f"{prefix}Country": value.country_code,
        f"{prefix}PostCode": value.postal_code,
    }
    return {name: item for name, item in fields.items() if item}


def customer(golden: GoldenCustomer, cfg: BusinessCentralTarget) -> EgressDocument:
    """A golden customer created with our number (Code[20]); the probe finds it on re-delivery."""
    document = "business-central.customer"
    number = document_number(golden.golden_id, 20)
    name = golden.company or " ".join(part for part in (golden.first_name, golden.last_name) if part)
    if not name:
        raise UntranslatableError(document, "displayName", "a customer needs a name or a company")
    body: dict[str, Any] = {
        "number": number,
        "displayName": name[:100],
        "type": "Company" if golden.company else "Person",
    }
    if golden.addresses:
        first = golden.addresses[0]
        lines = first.street_lines
        optional = {
            "addressLine1": lines[0] if lines else None,
            "addressLine2": " ".join(lines[1:]) if len(lines) > 1 else None,
            "city": first.city,
            "state": (first.region_code or "").rpartition("-")[2] or first.region,
            "country": first.country_code,
            "postalCode": first.postal_code,
        }
        body.update({k: v for k, v in optional.items() if v})
    if golden.phone:
        body["phoneNumber"] = golden.phone
    if golden.email:
        body["email"] = golden.email
    key = str(golden.golden_id)
    return EgressDocument(
        system=SYSTEM,
        entity="customers",
        document_type=document,
        key=key,
        idempotency_key=idempotency_key(document, key, f"revision-{golden.revision}"),
        external_id=number,
        account=cfg.account,
        method=Method.POST,
        path=f"{_company(cfg)}/customers",
        content_type="application/json",
        body=jsondoc.dumps(body),
        probe=f"{_company(cfg)}/customers?$filter=number eq {_odata_text(number)}",
    )


def journal_lines(entry: JournalEntryEvent, cfg: BusinessCentralTarget) -> list[EgressDocument]:
    """One journalLine per entry line (the API takes one line per call), in LCY, signed amounts.

    Debits are positive and credits negative; the lines share the entry's ``documentNumber`` so the
    batch balances per document when posted.
    """
    document = "business-central.journalLine"
    if cfg.journal_id is None:
        raise UntranslatableError(document, "journalId", "no journal configured")
    if entry.functional_currency != cfg.local_currency:
        raise UntranslatableError(
            document,
            "amount",
            f"functional currency {entry.functional_currency} is not LCY {cfg.local_currency}",
        )
    number = document_number(entry.entry_id, 20)
    base = f"{_company(cfg)}/journals({cfg.journal_id})/journalLines"
    source = _source_reference(entry.source_document.id)
    total = sum((_signed(line) for line in entry.lines), Decimal(0))
    if total != 0:
        raise UntranslatableError(document, "amount", f"lines do not balance in LCY: {total}")
    docs = []
    for line in entry.lines:
        line_number = line.line_no * 10000
        account = cfg.account_numbers.get(line.account, line.account)
        body: dict[str, Any] = {
            "lineNumber": line_number,
            "accountType": "G/L Account",
            "accountNumber": account,
            "postingDate": entry.posting_date.isoformat(),
            "documentNumber": number,
            "externalDocumentNumber": source,
            "amount": _signed(line),
            "description": (line.memo or entry.description or source)[:100],
        }
        key = str(entry.entry_id)
        docs.append(
            EgressDocument(
                system=SYSTEM,
                entity="journal-lines",
                document_type=document,
                key=key,
                idempotency_key=idempotency_key(
                    document, f"{key}/{line.line_no}", str(entry.metadata.event_id)
                ),
                external_id=f"{number}/{line_number}",
                account=cfg.account,
                method=Method.POST,
                path=base,
                content_type="application/json",
                body=jsondoc.dumps(body),
                probe=f"{base}?$filter={_line_filter(number, line_number)}",
            )
        )
    return docs


def _source_reference(document_id: str) -> str:
    """externalDocumentNumber (Code[35]): a canonical UUID in its short form, else the id itself."""
    try:
        return document_number(uuid.UUID(document_id), 35)
    except ValueError:
        return document_id[:35]


def _line_filter(number: str, line_number: int) -> str:
    return f"documentNumber eq {_odata_text(number)} and lineNumber eq {line_number}"


def _signed(line: JournalLine) -> Decimal:
    value = formats.amount(line.functional_amount)
    if line.side is EntrySide.DEBIT:
        return value
    if line.side is EntrySide.CREDIT:
        return -value
    raise UntranslatableError("business-central.journalLine", "amount", f"line {line.line_no} has no side")
