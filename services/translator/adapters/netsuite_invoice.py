"""A NetSuite SOAP invoice record -> ``OrderEvent`` (see ``netsuite``)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from schemas.common.models import Address, Money
from schemas.orders.models import (
    CustomerSnapshot,
    FinancialStatus,
    Order,
    OrderChange,
    OrderEvent,
    OrderLine,
    OrderTotals,
)
from services.translator.convert import build, canonical, money, quantize_money, whole
from services.translator.errors import TranslationError
from services.translator.ingress import IngressRecord
from services.translator.metadata import event_metadata
from services.translator.xml_reader import XmlNode

__all__ = ["invoice_event"]

AddressReader = Callable[[str, str], Address | None]


def _amount(node: XmlNode, default: Decimal | None = None) -> Decimal:
    value = node.opt_decimal()
    if value is None:
        if default is None:
            raise TranslationError(node.path, "decimal", None)
        return default
    return value


def _line(item: XmlNode, currency: str) -> OrderLine:
    ref = item.child("item").require()
    quantity_node = item.child("quantity")
    quantity = whole(quantity_node.decimal(), quantity_node.path)
    amount = item.child("amount").decimal()
    rate = item.child("rate").opt_decimal()
    if rate is None:
        if quantity == 0:
            raise TranslationError(f"{item.path}/rate", "a rate when quantity is 0", None)
        rate = quantize_money(amount / quantity)
    return OrderLine(
        line_id=item.child("line").text(),
        sku=ref.child("name").opt_text(),
        product_id=ref.required_attr("internalId"),
        title=item.child("description").opt_text()
        or ref.child("name").opt_text()
        or ref.required_attr("internalId"),
        quantity=quantity,
        unit_of_measure=item.child("units").child("name").opt_text() or "EA",
        unit_price=money(rate, currency, f"{item.path}/rate"),
        line_total=money(amount, currency, f"{item.path}/amount"),
    )


def _financial_status(paid: Decimal, remaining: Decimal) -> FinancialStatus:
    if remaining == 0:
        return FinancialStatus.PAID
    return FinancialStatus.PARTIALLY_PAID if paid > 0 else FinancialStatus.PENDING


def invoice_event(
    record: IngressRecord, invoice: XmlNode, currency: str, address: AddressReader
) -> OrderEvent:
    native_id = invoice.required_attr("internalId")
    lines = [_line(item, currency) for item in invoice.child("itemList").children("item")]
    zero = Decimal(0)
    tax = _amount(invoice.child("taxTotal"), zero) + _amount(invoice.child("tax2Total"), zero)
    shipping = _amount(invoice.child("shippingCost"), zero) + _amount(invoice.child("handlingCost"), zero)
    paid = _amount(invoice.child("amountPaid"), zero)
    remaining = _amount(invoice.child("amountRemaining"), zero)

    def m(value: Decimal, element: str) -> Money:
        return money(value, currency, f"{invoice.path}/{element}")

    totals = OrderTotals(
        subtotal=m(_amount(invoice.child("subTotal")), "subTotal"),
        # discount items are negative amounts in NetSuite; the canonical discount is positive.
        discounts=m(abs(_amount(invoice.child("discountTotal"), zero)), "discountTotal"),
        shipping=m(shipping, "shippingCost"),
        tax=m(tax, "taxTotal"),
        total=m(_amount(invoice.child("total")), "total"),
        outstanding=m(remaining, "amountRemaining"),
    )
    entity = invoice.child("entity")
    customer = None
    if entity.is_present:
        customer_id = entity.required_attr("internalId")
        customer = CustomerSnapshot(
            customer_id=canonical(record, "customer", customer_id), native_id=customer_id
        )
    placed_at = invoice.child("tranDate").timestamp()
    updated_at = invoice.child("lastModifiedDate").opt_timestamp()
    order = build(
        Order,
        invoice.path,
        order_id=canonical(record, "invoice", native_id),
        channel="netsuite",
        account=record.account,
        native_id=native_id,
        display_number=invoice.child("tranId").opt_text(),
        placed_at=placed_at,
        updated_at=updated_at,
        customer=customer,
        billing_address=address("transactionBillAddress", "bill"),
        shipping_address=address("transactionShipAddress", "ship"),
        lines=lines,
        shop_currency=currency,
        totals=totals,
        financial_status=_financial_status(paid, remaining),
        source_status=invoice.child("status").opt_text(),
    )
    metadata = event_metadata(
        record,
        event_type="order.updated",
        entity="invoice",
        native_id=native_id,
        occurred_at=updated_at or placed_at,
    )
    return OrderEvent(metadata=metadata, change=OrderChange.UPDATED, order=order)
