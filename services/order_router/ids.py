"""Deterministic ids of everything the router writes: a replay produces the same keys and event ids."""

from __future__ import annotations

import json
import uuid

from schemas.ids import canonical_id

__all__ = [
    "event_id",
    "fill_id",
    "fulfillment_order_id",
    "legacy_reservation_id",
    "request_id",
    "reservation_id",
]

_SYSTEM = "esb"
_ACCOUNT = "order-router"


def _id(entity: str, *parts: object) -> uuid.UUID:
    return canonical_id(_SYSTEM, _ACCOUNT, entity, json.dumps([str(p) for p in parts]))


def reservation_id(order_id: str, line_id: str, sku: str, location: str) -> uuid.UUID:
    """One reservation per order line and stock position (``ReservationEvent.reservation_id``).

    The SKU is part of it: a line whose SKU changes holds a new reservation on the new position, so
    a reservation id never spans two positions (the projector folds each id on one position).
    """
    return _id("reservation-v2", order_id, line_id, sku, location)


def legacy_reservation_id(order_id: str, line_id: str, location: str) -> uuid.UUID:
    """The id of reservations made before the SKU was part of it: only released, never reserved."""
    return _id("reservation", order_id, line_id, location)


def fulfillment_order_id(order_id: str, location: str) -> uuid.UUID:
    """One fulfillment order per order and location."""
    return _id("fulfillment-order", order_id, location)


def request_id(order_id: str, sequence: int, sku: str, kind: str) -> str:
    return str(_id("request", order_id, sequence, sku, kind))


def fill_id(sku: str, sequence: int) -> str:
    """A backorder fill of the SKU stage: the ``sequence``-th fill of ``sku``."""
    return str(_id("fill", sku, sequence))


def event_id(cause: str, kind: str, *parts: object) -> uuid.UUID:
    """Event id of an output: a function of what caused it, so a replay repeats it exactly."""
    return _id("event", cause, kind, *parts)
