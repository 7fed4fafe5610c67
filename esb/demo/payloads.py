"""Native payloads shaped like the providers' own (the conformance samples), built from demo data.

Every builder returns the JSON document a provider would send; amounts are ``Decimal`` rendered the
way each provider renders them (Shopify/WooCommerce decimal strings, Stripe/Adyen minor units).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zlib import crc32

from esb.demo.catalog import Person, Product, Variant

__all__ = [
    "Line",
    "OrderDraft",
    "adyen_notification",
    "amazon_order",
    "fba_inventory",
    "msi_source_items",
    "shopify_customer",
    "shopify_inventory_level",
    "shopify_order",
    "shopify_refund",
    "stripe_charge_refunded",
    "stripe_charge_succeeded",
    "woocommerce_customer",
    "woocommerce_order",
]

CENT = Decimal("0.01")
TAX_RATE = Decimal("0.06")


@dataclass(frozen=True, slots=True)
class Line:
    line_id: int
    product: Product
    quantity: int

    @property
    def total(self) -> Decimal:
        return (self.product.price * self.quantity).quantize(CENT, ROUND_HALF_EVEN)

    @property
    def tax(self) -> Decimal:
        return (self.total * TAX_RATE).quantize(CENT, ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class OrderDraft:
    """One order as the generator decided it, before any channel renders it."""

    channel: str
    native_id: int
    number: int
    person: Person
    variant: Variant
    lines: tuple[Line, ...]
    currency: str
    placed_at: datetime
    shipping: Decimal
    reference: str = ""  # the id the channel shows (Amazon's order id); default: native_id

    @property
    def key(self) -> str:
        """``<channel>:<the channel's order id>``, as canonical ``Order.channel`` / ``native_id``."""
        return f"{self.channel}:{self.reference or self.native_id}"

    @property
    def subtotal(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0.00"))

    @property
    def tax(self) -> Decimal:
        return sum((line.tax for line in self.lines), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax + self.shipping


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _s(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


def _minor(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value(ROUND_HALF_EVEN))


def _money_set(amount: Decimal, currency: str) -> dict[str, Any]:
    money = {"amount": _s(amount), "currency_code": currency}
    return {"shop_money": money, "presentment_money": dict(money)}


def _shopify_address(person: Person, variant: Variant) -> dict[str, Any]:
    return {
        "first_name": variant.first_name,
        "last_name": variant.last_name,
        "address1": person.street,
        "address2": "",
        "city": person.city,
        "province_code": person.state,
        "zip": person.zip_code,
        "country_code": "US",
        "phone": variant.phone,
    }


def shopify_order(order: OrderDraft, customer_id: int) -> dict[str, Any]:
    cur = order.currency
    return {
        "id": order.native_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order.native_id}",
        "name": f"#{order.number}",
        "number": order.number,
        "order_number": order.number,
        "email": order.variant.email,
        "phone": order.variant.phone,
        "created_at": _iso(order.placed_at),
        "updated_at": _iso(order.placed_at),
        "processed_at": _iso(order.placed_at),
        "currency": cur,
        "presentment_currency": cur,
        "financial_status": "paid",
        "fulfillment_status": None,
        "confirmed": True,
        "test": False,
        "taxes_included": False,
        "subtotal_price": _s(order.subtotal),
        "subtotal_price_set": _money_set(order.subtotal, cur),
        "total_line_items_price": _s(order.subtotal),
        "total_line_items_price_set": _money_set(order.subtotal, cur),
        "total_discounts": "0.00",
        "total_discounts_set": _money_set(Decimal(0), cur),
        "total_tax": _s(order.tax),
        "total_tax_set": _money_set(order.tax, cur),
        "total_shipping_price_set": _money_set(order.shipping, cur),
        "total_price": _s(order.total),
        "total_price_set": _money_set(order.total, cur),
        "total_outstanding": "0.00",
        "tax_lines": [
            {
                "price": _s(order.tax),
                "rate": float(TAX_RATE),
                "title": "State tax",
                "price_set": _money_set(order.tax, cur),
            }
        ],
        "discount_codes": [],
        "discount_applications": [],
        "customer": {
            "id": customer_id,
            "email": order.variant.email,
            "first_name": order.variant.first_name,
            "last_name": order.variant.last_name,
            "phone": order.variant.phone,
        },
        "billing_address": _shopify_address(order.person, order.variant),
        "shipping_address": _shopify_address(order.person, order.variant),
        "line_items": [
            {
                "id": line.line_id,
                "name": line.product.title,
                "title": line.product.title,
                "sku": line.product.sku,
                "quantity": line.quantity,
                "current_quantity": line.quantity,
                "fulfillable_quantity": line.quantity,
                "price": _s(line.product.price),
                "price_set": _money_set(line.product.price, cur),
                "total_discount": "0.00",
                "total_discount_set": _money_set(Decimal(0), cur),
                "requires_shipping": True,
                "taxable": True,
                "gift_card": False,
                "tax_lines": [
                    {
                        "price": _s(line.tax),
                        "rate": float(TAX_RATE),
                        "title": "State tax",
                        "price_set": _money_set(line.tax, cur),
                    }
                ],
                "discount_allocations": [],
                "duties": [],
            }
            for line in order.lines
        ],
        "shipping_lines": [
            {
                "id": order.native_id + 1,
                "title": "Standard",
                "code": "standard",
                "price": _s(order.shipping),
                "price_set": _money_set(order.shipping, cur),
                "discounted_price": _s(order.shipping),
                "discounted_price_set": _money_set(order.shipping, cur),
                "tax_lines": [],
                "discount_allocations": [],
            }
        ],
        "fulfillments": [],
        "refunds": [],
    }


def shopify_refund(order: OrderDraft, refund_id: int, line: Line, location_id: int) -> dict[str, Any]:
    cur = order.currency
    amount = line.total + line.tax
    return {
        "refund": {
            "id": refund_id,
            "order_id": order.native_id,
            "created_at": _iso(order.placed_at),
            "processed_at": _iso(order.placed_at),
            "note": "demo return",
            "restock": True,
            "refund_line_items": [
                {
                    "id": refund_id + 1,
                    "line_item_id": line.line_id,
                    "location_id": location_id,
                    "quantity": line.quantity,
                    "restock_type": "return",
                    "subtotal": float(line.total),
                    "subtotal_set": _money_set(line.total, cur),
                    "total_tax": float(line.tax),
                    "total_tax_set": _money_set(line.tax, cur),
                    "line_item": {
                        "id": line.line_id,
                        "sku": line.product.sku,
                        "title": line.product.title,
                        "quantity": line.quantity,
                        "price": _s(line.product.price),
                        "total_discount": "0.00",
                        "tax_lines": [{"price": _s(line.tax), "rate": float(TAX_RATE), "title": "State tax"}],
                    },
                }
            ],
            "order_adjustments": [],
            "transactions": [
                {
                    "id": refund_id + 2,
                    "order_id": order.native_id,
                    "kind": "refund",
                    "gateway": "shopify_payments",
                    "status": "success",
                    "amount": _s(amount),
                    "currency": cur,
                    "created_at": _iso(order.placed_at),
                }
            ],
        }
    }


def shopify_customer(person: Person, variant: Variant, customer_id: int, at: datetime) -> dict[str, Any]:
    address = _shopify_address(person, variant) | {"id": customer_id, "default": True}
    return {
        "id": customer_id,
        "email": variant.email,
        "first_name": variant.first_name,
        "last_name": variant.last_name,
        "phone": variant.phone,
        "created_at": _iso(at),
        "updated_at": _iso(at),
        "state": "enabled",
        "verified_email": True,
        "tax_exempt": False,
        "tags": "",
        "currency": "USD",
        "default_address": address,
        "addresses": [address],
    }


def shopify_inventory_level(
    sku: str, item_id: int, location_id: int, available: int, at: datetime
) -> dict[str, Any]:
    # `sku` is the enrichment field the ingester adds (Shopify itself names only the item id).
    return {
        "inventory_item_id": item_id,
        "location_id": location_id,
        "available": available,
        "updated_at": _iso(at),
        "sku": sku,
    }


def _woo_address(person: Person, variant: Variant, with_contact: bool) -> dict[str, Any]:
    address = {
        "first_name": variant.first_name,
        "last_name": variant.last_name,
        "company": "",
        "address_1": person.street,
        "address_2": "",
        "city": person.city,
        "state": person.state,
        "postcode": person.zip_code,
        "country": "US",
    }
    if with_contact:
        address |= {"email": variant.email, "phone": variant.phone}
    return address


def woocommerce_order(order: OrderDraft, customer_id: int) -> dict[str, Any]:
    placed = order.placed_at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    return {
        "id": order.native_id,
        "parent_id": 0,
        "number": str(order.number),
        "order_key": f"wc_order_{order.native_id}",
        "created_via": "checkout",
        "status": "processing",
        "currency": order.currency,
        "date_created": placed,
        "date_created_gmt": placed,
        "date_modified": placed,
        "date_modified_gmt": placed,
        "date_paid": placed,
        "date_paid_gmt": placed,
        "discount_total": "0.00",
        "discount_tax": "0.00",
        "shipping_total": _s(order.shipping),
        "shipping_tax": "0.00",
        "cart_tax": _s(order.tax),
        "total": _s(order.total),
        "total_tax": _s(order.tax),
        "prices_include_tax": False,
        "customer_id": customer_id,
        "billing": _woo_address(order.person, order.variant, with_contact=True),
        "shipping": _woo_address(order.person, order.variant, with_contact=False),
        "payment_method": "stripe",
        "payment_method_title": "Credit card",
        "transaction_id": f"ch_demo{order.native_id}",
        "line_items": [
            {
                "id": line.line_id,
                "name": line.product.title,
                "product_id": 1000 + index,
                "variation_id": 0,
                "quantity": line.quantity,
                "tax_class": "",
                "subtotal": _s(line.total),
                "subtotal_tax": _s(line.tax),
                "total": _s(line.total),
                "total_tax": _s(line.tax),
                "taxes": [{"id": 75, "total": _s(line.tax), "subtotal": _s(line.tax)}],
                "meta_data": [],
                "sku": line.product.sku,
                "price": float(line.product.price),
            }
            for index, line in enumerate(order.lines)
        ],
        "tax_lines": [
            {
                "id": 1,
                "rate_code": "US-STATE TAX",
                "rate_id": 75,
                "label": "State Tax",
                "compound": False,
                "tax_total": _s(order.tax),
                "shipping_tax_total": "0.00",
            }
        ],
        "shipping_lines": [
            {
                "id": 2,
                "method_title": "Flat Rate",
                "method_id": "flat_rate",
                "total": _s(order.shipping),
                "total_tax": "0.00",
                "taxes": [],
            }
        ],
        "fee_lines": [],
        "coupon_lines": [],
        "refunds": [],
    }


def woocommerce_customer(person: Person, variant: Variant, customer_id: int, at: datetime) -> dict[str, Any]:
    when = at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    return {
        "id": customer_id,
        "date_created": when,
        "date_created_gmt": when,
        "date_modified": when,
        "date_modified_gmt": when,
        "email": variant.email,
        "first_name": variant.first_name,
        "last_name": variant.last_name,
        "role": "customer",
        "username": variant.email.split("@")[0].lower(),
        "billing": _woo_address(person, variant, with_contact=True),
        "shipping": _woo_address(person, variant, with_contact=False),
        "is_paying_customer": True,
        "meta_data": [],
    }


def amazon_order(order: OrderDraft, seller_id: str, amazon_id: str) -> dict[str, Any]:
    cur = order.currency
    purchase = order.placed_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {
        "order": {
            "AmazonOrderId": amazon_id,
            "SellerOrderId": str(order.native_id),
            "PurchaseDate": purchase,
            "LastUpdateDate": purchase,
            "OrderStatus": "Unshipped",
            "FulfillmentChannel": "MFN",
            "SalesChannel": "Amazon.com",
            "ShipServiceLevel": "Std US D2D Dom",
            "OrderTotal": {"CurrencyCode": cur, "Amount": _s(order.total)},
            "NumberOfItemsShipped": 0,
            "NumberOfItemsUnshipped": sum(line.quantity for line in order.lines),
            "PaymentMethod": "Other",
            "MarketplaceId": "ATVPDKIKX0DER",
            "OrderType": "StandardOrder",
            "BuyerInfo": {"BuyerEmail": order.variant.email},
            "ShippingAddress": {
                "Name": f"{order.variant.first_name} {order.variant.last_name}",
                "AddressLine1": order.person.street,
                "City": order.person.city,
                "StateOrRegion": order.person.state,
                "PostalCode": order.person.zip_code,
                "CountryCode": "US",
                "Phone": order.variant.phone,
            },
            "SellerId": seller_id,
        },
        "items": {
            "AmazonOrderId": amazon_id,
            "OrderItems": [
                {
                    "ASIN": f"B0{line.line_id:08d}",
                    "SellerSKU": line.product.sku,
                    "OrderItemId": str(line.line_id),
                    "Title": line.product.title,
                    "QuantityOrdered": line.quantity,
                    "QuantityShipped": 0,
                    "ItemPrice": {"CurrencyCode": cur, "Amount": _s(line.total)},
                    "ItemTax": {"CurrencyCode": cur, "Amount": _s(line.tax)},
                    "ShippingPrice": {
                        "CurrencyCode": cur,
                        "Amount": _s(order.shipping if index == 0 else Decimal(0)),
                    },
                }
                for index, line in enumerate(order.lines)
            ],
        },
    }


def fba_inventory(
    seller_id: str, sku: str, fulfillable: int, at: datetime, notification_id: str
) -> dict[str, Any]:
    return {
        "NotificationVersion": "1.0",
        "NotificationType": "FBA_INVENTORY_AVAILABILITY_CHANGES",
        "PayloadVersion": "1.0",
        "EventTime": at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "Payload": {
            "SellerId": seller_id,
            "FNSKU": f"X00{crc32(sku.encode()) % 10**7:07d}",
            "ASIN": f"B0{crc32(sku.encode()) % 10**8:08d}",
            "SKU": sku,
            "FulfillmentInventoryByMarketplace": [
                {
                    "MarketplaceId": "ATVPDKIKX0DER",
                    "ItemName": sku,
                    "FulfillmentInventory": {
                        "InboundQuantityBreakdown": {"Working": 0, "Shipped": 0, "Receiving": 0},
                        "Fulfillable": fulfillable,
                        "Unfulfillable": 0,
                        "ReservedQuantityBreakdown": {
                            "WarehouseProcessing": 0,
                            "WarehouseTransfer": 0,
                            "PendingCustomerOrder": 0,
                        },
                        "Researching": 0,
                        "FutureSupplyBuyable": 0,
                        "PendingCustomerOrderInTransit": 0,
                    },
                }
            ],
        },
        "NotificationMetadata": {
            "ApplicationId": "app-id-demo",
            "SubscriptionId": "subscription-id-demo",
            "PublishTime": at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "NotificationId": notification_id,
        },
    }


def _charge(order: OrderDraft, charge_id: str, refunded: Sequence[tuple[str, Decimal]]) -> dict[str, Any]:
    created = int(order.placed_at.timestamp())
    refunded_total = sum((amount for _, amount in refunded), Decimal(0))
    return {
        "id": charge_id,
        "object": "charge",
        "amount": _minor(order.total),
        "amount_captured": _minor(order.total),
        "amount_refunded": _minor(refunded_total),
        "balance_transaction": f"txn_{charge_id[3:]}",
        "billing_details": {
            "email": order.variant.email,
            "name": f"{order.variant.first_name} {order.variant.last_name}",
        },
        "captured": True,
        "created": created,
        "currency": order.currency.lower(),
        "customer": None,
        "description": f"{order.channel} order {order.number}",
        "metadata": {"order_id": str(order.native_id), "channel": order.channel},
        "paid": True,
        "payment_intent": f"pi_{charge_id[3:]}",
        "payment_method_details": {
            "type": "card",
            "card": {"brand": "visa", "last4": "4242", "country": "US"},
        },
        "refunded": bool(refunded),
        "refunds": {
            "object": "list",
            "data": [
                {
                    "id": refund_id,
                    "object": "refund",
                    "amount": _minor(amount),
                    "charge": charge_id,
                    "created": created + 60,
                    "currency": order.currency.lower(),
                    "status": "succeeded",
                    "reason": "requested_by_customer",
                    "metadata": {},
                }
                for refund_id, amount in refunded
            ],
            "has_more": False,
            "total_count": len(refunded),
        },
        "status": "succeeded",
    }


def _stripe_event(event_id: str, kind: str, created: int, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2020-08-27",
        "created": created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }


def stripe_charge_succeeded(order: OrderDraft, charge_id: str, event_id: str) -> dict[str, Any]:
    return _stripe_event(
        event_id, "charge.succeeded", int(order.placed_at.timestamp()), _charge(order, charge_id, ())
    )


def stripe_charge_refunded(
    order: OrderDraft, charge_id: str, event_id: str, refund_id: str, amount: Decimal
) -> dict[str, Any]:
    charge = _charge(order, charge_id, ((refund_id, amount),))
    return _stripe_event(event_id, "charge.refunded", int(order.placed_at.timestamp()) + 60, charge)


def adyen_notification(
    order: OrderDraft,
    psp_reference: str,
    event_code: str,
    merchant_account: str,
    amount: Decimal,
    original_reference: str | None = None,
) -> dict[str, Any]:
    """One NotificationRequestItem (the signature is added by the signer)."""
    item: dict[str, Any] = {
        "additionalData": {"authCode": "1234", "cardSummary": "1111"},
        "amount": {"currency": order.currency, "value": _minor(amount)},
        "eventCode": event_code,
        "eventDate": order.placed_at.astimezone(UTC).isoformat(timespec="seconds"),
        "merchantAccountCode": merchant_account,
        "merchantReference": f"{order.channel}-{order.native_id}",
        "paymentMethod": "visa",
        "pspReference": psp_reference,
        "success": "true",
    }
    if original_reference:
        item["originalReference"] = original_reference
    return {"live": "false", "notificationItems": [{"NotificationRequestItem": item}]}


def msi_source_items(items: Sequence[tuple[str, str, int]]) -> dict[str, Any]:
    """Magento MSI ``POST /V1/inventory/source-items``: absolute quantities per (SKU, source)."""
    return {
        "sourceItems": [
            {"sku": sku, "source_code": source, "quantity": quantity, "status": 1 if quantity > 0 else 0}
            for sku, source, quantity in items
        ]
    }
