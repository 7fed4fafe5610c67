"""NetSuite REST record v1 documents: salesOrder, customer, journalEntry, inventoryAdjustment.

Every document is an **upsert by external id** (``PUT /services/rest/record/v1/<type>/eid:<id>``):
NetSuite creates the record the first time and updates the same record afterwards, so a re-delivery
cannot create a twin. References are ``{"id": "<internal id>"}`` from the account's master-data
maps; amounts and quantities are JSON numbers (Decimal, never float), dates ``YYYY-MM-DD`` in the
account's time zone, sublists ``{"items": [...]}``. Journal lines carry either ``debit`` or
``credit``, never both.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from schemas.common.models import Address
from schemas.customers.models import GoldenCustomer
from schemas.inventory.models import MovementKind, StockMovementEvent
from schemas.ledger.models import EntrySide, JournalEntryEvent, JournalLine
from schemas.orders.models import Order, OrderChange, OrderEvent
from services.egress import formats, jsondoc
from services.egress.document import EgressDocument, Method
from services.egress.errors import UntranslatableError
from services.egress.keys import external_id, idempotency_key
from services.egress.settings import NetSuiteTarget

__all__ = ["address", "customer", "inventory_adjustment", "journal_entry", "sales_order"]

SYSTEM = "netsuite"
_RECORD = "/services/rest/record/v1"


def _document(
    cfg: NetSuiteTarget, record: str, entity: str, key: str, ext_id: str, version: str, body: dict[str, Any]
) -> EgressDocument:
    document_type = f"netsuite.{record}"
    return EgressDocument(
        system=SYSTEM,
        entity=entity,
        document_type=document_type,
        key=key,
        idempotency_key=idempotency_key(document_type, key, version),
        external_id=ext_id,
        account=cfg.account,
        method=Method.PUT,
        path=f"{_RECORD}/{record}/eid:{ext_id}",
        content_type="application/json",
        body=jsondoc.dumps(body),
    )


def _ref(internal_id: str) -> dict[str, str]:
    return {"id": internal_id}


def address(value: Address) -> dict[str, Any]:
    """A NetSuite address subrecord (``addressee``, ``addr1``..., ``country`` as ISO alpha-2)."""
    fields: dict[str, Any] = {}
    if value.company:
        fields["addressee"] = value.company
        if value.name:
            fields["attention"] = value.name
    elif value.name:
        fields["addressee"] = value.name
    for index, line in enumerate(value.street_lines[:3], start=1):
        fields[f"addr{index}"] = line
    optional = {
        "city": value.city,
        "state": _region(value),
        "zip": value.postal_code,
        "country": value.country_code,
        "addrPhone": value.phone,
    }
    fields.update({name: item for name, item in optional.items() if item})
    return fields


def _region(value: Address) -> str | None:
    if value.region_code:
        return value.region_code.rpartition("-")[2]  # ISO 3166-2 "US-CA" -> "CA"
    return value.region


def _item_ref(cfg: NetSuiteTarget, sku: str | None, document: str) -> dict[str, str]:
    if not sku:
        raise UntranslatableError(document, "lines[].sku", "a line without SKU has no NetSuite item")
    internal = cfg.item_ids.get(sku)
    return _ref(internal) if internal else {"externalId": sku}


def sales_order(event: OrderEvent, cfg: NetSuiteTarget, version: str | None = None) -> EgressDocument:
    """``version``: the document version (default: the event id; routed orders add the revision)."""
    order = event.order
    document = "netsuite.salesOrder"
    customer_id = cfg.customer_ids.get(order.channel)
    if customer_id is None:
        raise UntranslatableError(document, "entity", f"no customer configured for channel {order.channel!r}")
    ext = external_id("order", order.order_id)
    body: dict[str, Any] = {
        "externalId": ext,
        "entity": _ref(customer_id),
        "subsidiary": _ref(cfg.subsidiary_id),
        "tranDate": order.placed_at.astimezone(cfg.zone).date().isoformat(),
        "otherRefNum": order.display_number or order.native_id,
        "memo": f"{order.channel} {order.account} order {order.display_number or order.native_id}",
    }
    currency = cfg.currency_ids.get(order.shop_currency)
    if currency is None:
        raise UntranslatableError(document, "currency", f"no currency id for {order.shop_currency}")
    body["currency"] = _ref(currency)
    if order.customer is not None and order.customer.email:
        body["email"] = order.customer.email
    if order.billing_address is not None:
        body["billingAddress"] = address(order.billing_address)
    if order.shipping_address is not None:
        body["shippingAddress"] = address(order.shipping_address)
    body["shippingCost"] = formats.amount(order.totals.shipping)
    if order.totals.discounts.amount and cfg.discount_item_id:
        body["discountItem"] = _ref(cfg.discount_item_id)
        body["discountRate"] = -formats.amount(order.totals.discounts)
    body["item"] = {"items": _order_items(order, cfg, closed=event.change is OrderChange.CANCELLED)}
    doc = _document(
        cfg,
        "salesOrder",
        "sales-orders",
        str(order.order_id),
        ext,
        version or str(event.metadata.event_id),
        body,
    )
    # Sublist lines are replaced, not appended, when an order changes.
    return _with_path(doc, f"{doc.path}?replace=item")


def _order_items(order: Order, cfg: NetSuiteTarget, *, closed: bool) -> list[dict[str, Any]]:
    items = []
    for line in order.lines:
        item: dict[str, Any] = {
            "item": _item_ref(cfg, line.sku, "netsuite.salesOrder"),
            "description": line.title if not line.variant_title else f"{line.title} - {line.variant_title}",
            "quantity": line.quantity,
            "rate": formats.unit_price(line.unit_price),
            "amount": formats.amount_of(line.unit_price.amount * line.quantity, line.unit_price.currency),
        }
        location = cfg.location_ids.get(line.fulfillment_location or "")
        if location:
            item["inventoryLocation"] = _ref(location)
        if closed:
            item["isClosed"] = True
        items.append(item)
    return items


def _with_path(doc: EgressDocument, path: str) -> EgressDocument:
    return replace(doc, path=path)


def customer(golden: GoldenCustomer, cfg: NetSuiteTarget) -> EgressDocument:
    """Upsert of a golden customer; a company name makes it a company, otherwise a person."""
    ext = external_id("customer", golden.golden_id)
    body: dict[str, Any] = {"externalId": ext, "subsidiary": _ref(cfg.subsidiary_id)}
    is_person = not golden.company
    body["isPerson"] = is_person
    if golden.company:
        body["companyName"] = golden.company
    if golden.first_name:
        body["firstName"] = golden.first_name
    if golden.last_name:
        body["lastName"] = golden.last_name
    if is_person and not (golden.first_name or golden.last_name):
        raise UntranslatableError("netsuite.customer", "lastName", "a person needs a name")
    if golden.email:
        body["email"] = golden.email
    if golden.phone:
        body["phone"] = golden.phone
    if golden.addresses:
        body["addressBook"] = {
            "items": [
                {
                    "defaultBilling": index == 0,
                    "defaultShipping": index == 0,
                    "addressBookAddress": address(item),
                }
                for index, item in enumerate(golden.addresses)
            ]
        }
    doc = _document(
        cfg, "customer", "customers", str(golden.golden_id), ext, f"revision-{golden.revision}", body
    )
    return _with_path(doc, f"{doc.path}?replace=addressBook")


def journal_entry(entry: JournalEntryEvent, cfg: NetSuiteTarget) -> EgressDocument:
    """A balanced journal entry in the lines' transaction currency (functional when lines mix)."""
    document = "netsuite.journalEntry"
    currencies = {line.amount.currency for line in entry.lines}
    transactional = len(currencies) == 1
    currency = currencies.pop() if transactional else entry.functional_currency
    currency_id = cfg.currency_ids.get(currency)
    if currency_id is None:
        raise UntranslatableError(document, "currency", f"no currency id for {currency}")
    lines = [_journal_line(line, cfg, functional=not transactional) for line in entry.lines]
    debit = sum((line.get("debit", Decimal(0)) for line in lines), Decimal(0))
    credit = sum((line.get("credit", Decimal(0)) for line in lines), Decimal(0))
    if debit != credit:
        raise UntranslatableError(document, "line", f"debits {debit} != credits {credit} after rounding")
    ext = external_id("journal", entry.entry_id)
    body: dict[str, Any] = {
        "externalId": ext,
        "subsidiary": _ref(cfg.subsidiary_id),
        "tranDate": entry.posting_date.isoformat(),
        "currency": _ref(currency_id),
    }
    rate = entry.lines[0].exchange_rate if transactional else None
    body["exchangeRate"] = rate if rate is not None else Decimal(1)
    period = cfg.period_ids.get(entry.accounting_period or entry.posting_date.strftime("%Y-%m"))
    if period:
        body["postingPeriod"] = _ref(period)
    memo = entry.description or f"{entry.source_document.type} {entry.source_document.id}"
    if entry.reverses_entry_id is not None:
        memo = f"Reversal of {external_id('journal', entry.reverses_entry_id)}: {memo}"
    body["memo"] = memo[:999]
    body["line"] = {"items": lines}
    return _document(
        cfg, "journalEntry", "journal-entries", str(entry.entry_id), ext, str(entry.metadata.event_id), body
    )


def _journal_line(line: JournalLine, cfg: NetSuiteTarget, *, functional: bool) -> dict[str, Any]:
    account = cfg.account_ids.get(line.account)
    if account is None:
        raise UntranslatableError(
            "netsuite.journalEntry", "line.account", f"no account id for {line.account!r}"
        )
    money = line.functional_amount if functional else line.amount
    if line.side is EntrySide.UNKNOWN:
        raise UntranslatableError("netsuite.journalEntry", "line", f"line {line.line_no} has no side")
    item: dict[str, Any] = {"account": _ref(account)}
    item["debit" if line.side is EntrySide.DEBIT else "credit"] = formats.amount(money)
    if line.memo:
        item["memo"] = line.memo
    department = cfg.department_ids.get(line.dimensions.get("department", ""))
    if department:
        item["department"] = _ref(department)
    klass = cfg.class_ids.get(line.dimensions.get("channel", ""))
    if klass:
        item["class"] = _ref(klass)
    location = cfg.location_ids.get(line.dimensions.get("location", ""))
    if location:
        item["location"] = _ref(location)
    return item


def inventory_adjustment(movement: StockMovementEvent, cfg: NetSuiteTarget) -> EgressDocument | None:
    """An ADJUSTMENT movement as an inventoryAdjustment (``adjustQtyBy``); other kinds: None."""
    document = "netsuite.inventoryAdjustment"
    if movement.kind is not MovementKind.ADJUSTMENT:
        return None
    if cfg.adjustment_account_id is None:
        raise UntranslatableError(document, "account", "no adjustment account configured")
    location = cfg.location_ids.get(movement.location)
    if location is None:
        raise UntranslatableError(document, "adjLocation", f"no location id for {movement.location!r}")
    ext = external_id("adjustment", movement.movement_id)
    line: dict[str, Any] = {
        "item": _item_ref(cfg, movement.sku, document),
        "location": _ref(location),
        "adjustQtyBy": movement.quantity,
    }
    if movement.unit_cost is not None:
        line["unitCost"] = formats.unit_price(movement.unit_cost)
    body: dict[str, Any] = {
        "externalId": ext,
        "subsidiary": _ref(cfg.subsidiary_id),
        "account": _ref(cfg.adjustment_account_id),
        "adjLocation": _ref(location),
        "tranDate": movement.metadata.occurred_at.astimezone(cfg.zone).date().isoformat(),
        "memo": movement.reason or "adjustment",
        "inventory": {"items": [line]},
    }
    return _document(
        cfg,
        "inventoryAdjustment",
        "inventory-adjustments",
        str(movement.movement_id),
        ext,
        str(movement.metadata.event_id),
        body,
    )
