"""Deterministic ids of everything the router writes: a replay produces the same keys and event ids."""

from __future__ import annotations

import uuid
from functools import lru_cache
from json.encoder import encode_basestring, encode_basestring_ascii

from schemas.ids import CANONICAL_NAMESPACE

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
    """``canonical_id(_SYSTEM, _ACCOUNT, entity, json.dumps([str(p) for p in parts]))``, built with
    the string encoders ``json.dumps`` itself uses: the same name bytes, hence the same UUID, without
    two encoder passes per id (the router makes several ids per record). ``entity`` is one of this
    module's lower-case constants, so ``canonical_id``'s normalising leaves it as is."""
    native = "[" + ", ".join([encode_basestring_ascii(str(p)) for p in parts]) + "]"
    name = f'["{_SYSTEM}","{_ACCOUNT}","{entity}",{encode_basestring(native)}]'
    return uuid.uuid5(CANONICAL_NAMESPACE, name)


def reservation_id(order_id: str, line_id: str, sku: str, location: str) -> uuid.UUID:
    """One reservation per order line and stock position (``ReservationEvent.reservation_id``).

    The SKU is part of it: a line whose SKU changes holds a new reservation on the new position, so
    a reservation id never spans two positions (the projector folds each id on one position).
    """
    return _id("reservation-v2", order_id, line_id, sku, location)


def legacy_reservation_id(order_id: str, line_id: str, location: str) -> uuid.UUID:
    """The id of reservations made before the SKU was part of it: only released, never reserved."""
    return _id("reservation", order_id, line_id, location)


@lru_cache(maxsize=4096)  # asked for on every publish of the order, per line and per location
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
