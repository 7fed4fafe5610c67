"""Canonical events -> normalised :class:`MatchInput` for the single-partition match topic.

This half of the service runs on every partition of the canonical inputs in parallel: the
expensive, record-local work (phone parsing, Unicode folding, address normalisation) happens
here, so the single matcher only blocks, scores and keeps the books.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from schemas.base import epoch_millis
from schemas.common.models import Address, EventMetadata, SourceRef
from schemas.customers import CustomerChange, CustomerEvent, CustomerStewardCommand, ErasureRequest, MergeKind
from schemas.ids import canonical_id
from schemas.orders.models import Order, OrderChange, OrderEvent
from services.customer_merger.normalize import (
    address_key,
    normalize_address,
    normalize_email,
    normalize_name,
    normalize_phone,
)
from services.customer_merger.records import InputKind, MatchInput, OrderFact, SourceRecord
from services.customer_merger.settings import CustomerMergerSettings

__all__ = ["from_customer", "from_erasure", "from_order", "from_steward", "source_record"]


def _ms(value: datetime) -> int:
    return epoch_millis(value)


def source_record(
    settings: CustomerMergerSettings,
    *,
    customer_id: str,
    source: SourceRef,
    is_guest: bool,
    email: str | None,
    phone: str | None,
    first_name: str | None,
    last_name: str | None,
    company: str | None,
    addresses: list[Address],
    updated_at_ms: int,
) -> SourceRecord:
    region = settings.region_for(source.account)
    normalized = [normalize_address(address) for address in addresses]
    if phone is None:
        phone = next((a.phone for a in addresses if a.phone), None)
    first_display, first_key = normalize_name(first_name)
    last_display, last_key = normalize_name(last_name)
    if first_key and not last_key and " " in first_key:  # "Jane Doe" in the first-name field only
        first_display_parts = (first_display or "").rsplit(" ", 1)
        first_display, last_display = first_display_parts[0], first_display_parts[-1]
        first_key, _, last_key = first_key.rpartition(" ")
    address_region = next((a.country_code for a in normalized if a.country_code), None)
    normalized_email = normalize_email(email, settings.email)
    return SourceRecord(
        customer_id=customer_id,
        source=source,
        is_guest=is_guest,
        email=normalized_email,
        email_relay=settings.email.is_relay(normalized_email),
        phone=normalize_phone(phone, address_region or region) if phone else None,
        first_name=first_display,
        last_name=last_display,
        company=(company or "").strip() or None,
        first_key=first_key,
        last_key=last_key,
        addresses=[a.model_copy(update={"phone": None}) for a in normalized],
        address_keys=[key for key in (address_key(a) for a in normalized) if key["postal"] or key["city"]],
        updated_at_ms=updated_at_ms,
    )


def _meta(metadata: EventMetadata) -> tuple[str, int]:
    return str(metadata.event_id), _ms(metadata.occurred_at)


def from_customer(event: CustomerEvent, settings: CustomerMergerSettings) -> MatchInput:
    customer = event.customer
    source = SourceRef(
        system=event.metadata.source.system.lower(),
        account=event.metadata.source.account,
        entity="customer",
        native_id=customer.native_id,
    )
    event_id, occurred = _meta(event.metadata)
    record = source_record(
        settings,
        customer_id=str(customer.customer_id),
        source=source,
        is_guest=False,
        email=customer.email,
        phone=customer.phone,
        first_name=customer.first_name,
        last_name=customer.last_name,
        company=customer.company,
        addresses=_default_first(customer.addresses, customer.default_address_index),
        updated_at_ms=_ms(customer.updated_at) if customer.updated_at else occurred,
    )
    kind = InputKind.CUSTOMER_DELETED if event.change is CustomerChange.DELETED else InputKind.CUSTOMER
    return MatchInput(kind=kind, event_id=event_id, occurred_at_ms=occurred, record=record)


def _default_first(addresses: list[Address], default: int | None) -> list[Address]:
    if default is None or not 0 <= default < len(addresses):
        return list(addresses)
    return [addresses[default], *addresses[:default], *addresses[default + 1 :]]


def guest_customer_id(order: Order, email: str | None) -> str:
    """A guest checkout's source id: per (channel, account, email), or per order without an email."""
    native = f"email:{email}" if email else f"order:{order.native_id}"
    return str(canonical_id(order.channel, order.account, "guest-customer", native))


def _fact(order: Order, change: OrderChange) -> OrderFact:
    totals = order.totals
    total = totals.current_total.amount if totals.current_total is not None else totals.total.amount
    refunded = totals.refunded.amount if totals.refunded is not None else Decimal(0)
    return OrderFact(
        order_id=str(order.order_id),
        channel=order.channel,
        placed_at_ms=_ms(order.placed_at),
        currency=order.shop_currency,
        net_total=str(total - refunded),
        cancelled=change is OrderChange.CANCELLED or order.cancellation is not None,
    )


def from_order(event: OrderEvent, settings: CustomerMergerSettings) -> MatchInput | None:
    """The order's customer snapshot as a source record plus the order's 360 fact; None without one."""
    order = event.order
    snapshot = order.customer
    if snapshot is None or not any(
        (snapshot.customer_id, snapshot.email, snapshot.phone, snapshot.last_name)
    ):
        return None
    email = normalize_email(snapshot.email, settings.email)
    if snapshot.customer_id is not None and not snapshot.is_guest:
        customer_id, entity = str(snapshot.customer_id), "customer"
        native = snapshot.native_id or str(snapshot.customer_id)
    else:
        customer_id, entity, native = guest_customer_id(order, email), "guest-customer", order.native_id
    address = order.billing_address or order.shipping_address
    event_id, occurred = _meta(event.metadata)
    record = source_record(
        settings,
        customer_id=customer_id,
        source=SourceRef(
            system=order.channel.lower(), account=order.account, entity=entity, native_id=native
        ),
        is_guest=entity == "guest-customer",
        email=snapshot.email,
        phone=snapshot.phone,
        first_name=snapshot.first_name,
        last_name=snapshot.last_name,
        company=address.company if address else None,
        addresses=[address] if address else [],
        updated_at_ms=_ms(order.updated_at or order.placed_at),
    )
    return MatchInput(
        kind=InputKind.ORDER,
        event_id=event_id,
        occurred_at_ms=occurred,
        record=record,
        order=_fact(order, event.change),
    )


def from_erasure(request: ErasureRequest, settings: CustomerMergerSettings) -> MatchInput:
    ids = [str(request.customer_id)] if request.customer_id else []
    if request.source is not None:
        source = request.source
        ids.append(
            str(canonical_id(source.system, source.account, source.entity or "customer", source.native_id))
        )
    event_id, occurred = _meta(request.metadata)
    return MatchInput(
        kind=InputKind.ERASURE,
        event_id=event_id,
        occurred_at_ms=occurred,
        erase_customer_ids=sorted(set(ids)),
        erase_golden_ids=[str(request.golden_id)] if request.golden_id else [],
        erase_email=normalize_email(request.email, settings.email),
    )


def from_steward(command: CustomerStewardCommand) -> MatchInput | None:
    kinds = {MergeKind.MERGE: InputKind.STEWARD_MERGE, MergeKind.UNMERGE: InputKind.STEWARD_UNMERGE}
    kind = kinds.get(command.kind)
    if kind is None:
        return None
    event_id, occurred = _meta(command.metadata)
    return MatchInput(
        kind=kind,
        event_id=event_id,
        occurred_at_ms=occurred,
        golden_id=str(command.golden_id),
        other_golden_ids=[str(g) for g in command.other_golden_ids],
        customer_ids=[str(c) for c in command.customer_ids],
    )
