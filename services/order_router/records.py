"""Canonical records the router publishes: reservations, fulfillment orders, routed orders."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from schemas.common.models import Address, EventMetadata, SourceRef
from schemas.fulfillment.models import FulfillmentChange, FulfillmentOrderEvent, FulfillmentOrderLine
from schemas.inventory.models import ReservationEvent, ReservationKind
from schemas.orders.models import RoutedLine, RoutedOrderEvent, RoutingStatus
from services.order_router.ids import event_id, fulfillment_order_id

__all__ = ["FIRST_ROUTED", "fulfillment_order", "reservation", "routed_order", "utc"]

FIRST_ROUTED = "order.routed"
"""Event type of an order's first routing decision (later ones: order.rerouted, .held, .cancelled)."""


def utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _metadata(
    event: uuid.UUID, event_type: str, at_ms: int, entity: str, native_id: str, cause: str, correlation: str
) -> EventMetadata:
    at = utc(at_ms)
    return EventMetadata(
        event_id=event,
        event_type=event_type,
        occurred_at=at,
        ingested_at=at,
        source=SourceRef(system="esb", account="order-router", entity=entity, native_id=native_id),
        correlation_id=correlation,
        causation_id=cause,
    )


def reservation(
    *,
    kind: ReservationKind,
    reservation_id: uuid.UUID,
    sku: str,
    location: str,
    quantity: int,
    order_id: str,
    line_id: str,
    at_ms: int,
    cause: str,
    correlation: str,
) -> ReservationEvent:
    """RESERVE carries the cumulative units ever reserved (the projector keeps the newest RESERVE);
    RELEASE carries the units released now (the projector sums them)."""
    kind_name = "stock.reserved" if kind is ReservationKind.RESERVE else "stock.released"
    return ReservationEvent(
        metadata=_metadata(
            event_id(cause, kind_name, reservation_id, quantity),
            kind_name,
            at_ms,
            "reservation",
            str(reservation_id),
            cause,
            correlation,
        ),
        reservation_id=reservation_id,
        kind=kind,
        sku=sku,
        location=location,
        quantity=quantity,
        order_id=uuid.UUID(order_id),
        order_line_id=line_id,
    )


def fulfillment_order(
    *,
    change: FulfillmentChange,
    order_id: str,
    order_native_id: str | None,
    location: str,
    lines: Mapping[str, tuple[str, int]],
    shipping_address: dict[str, Any] | None,
    shipping_method: str | None,
    at_ms: int,
    cause: str,
    correlation: str,
    revision: int,
) -> FulfillmentOrderEvent:
    """``lines``: line id -> (sku, units) the location ships (empty when cancelled)."""
    fo_id = fulfillment_order_id(order_id, location)
    return FulfillmentOrderEvent(
        metadata=_metadata(
            event_id(cause, f"fulfillment-order.{change.value.lower()}", fo_id, revision),
            f"fulfillment_order.{change.value.lower()}",
            at_ms,
            "fulfillment-order",
            str(fo_id),
            cause,
            correlation,
        ),
        change=change,
        fulfillment_order_id=fo_id,
        order_id=uuid.UUID(order_id),
        order_native_id=order_native_id,
        location=location,
        lines=[
            FulfillmentOrderLine(order_line_id=line_id, sku=sku, quantity=units)
            for line_id, (sku, units) in lines.items()
        ],
        shipping_address=None if shipping_address is None else Address.model_validate(shipping_address),
        shipping_method=shipping_method,
    )


def routed_order(
    *,
    event_type: str,
    status: RoutingStatus,
    order_id: str,
    order_native_id: str | None,
    channel: str,
    account: str,
    placed_at_ms: int,
    erp_entity: str | None,
    rule_ids: list[str],
    rules_version: str,
    revision: int,
    allocations: list[tuple[str, str, str | None, int]],
    hold_reason: str | None,
    at_ms: int,
    cause: str,
    correlation: str,
) -> RoutedOrderEvent:
    """``allocations``: (line id, sku, location or None for backorder, units)."""
    return RoutedOrderEvent(
        metadata=_metadata(
            event_id(cause, "order.routed", order_id, revision),
            event_type,
            at_ms,
            "routed-order",
            order_id,
            cause,
            correlation,
        ),
        status=status,
        order_id=uuid.UUID(order_id),
        order_native_id=order_native_id,
        channel=channel,
        account=account,
        placed_at=utc(placed_at_ms),
        erp_entity=erp_entity,
        rule_ids=rule_ids,
        rules_version=rules_version,
        revision=revision,
        allocations=[
            RoutedLine(
                order_line_id=line_id,
                sku=sku,
                quantity=units,
                location=location,
                fulfillment_order_id=None if location is None else fulfillment_order_id(order_id, location),
            )
            for line_id, sku, location, units in allocations
        ],
        hold_reason=hold_reason,
    )
