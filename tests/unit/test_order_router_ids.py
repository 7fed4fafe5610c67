"""The router's ids never change: a replay, or a router upgraded mid-stream, keys and names every
record as before (the projector folds reservations by id, downstream dedups by event id)."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.ids import canonical_id
from services.order_router import ids

pytestmark = pytest.mark.unit


def _reference(entity: str, *parts: object) -> uuid.UUID:
    """How the ids were first defined (and are stored in every topic since)."""
    return canonical_id("esb", "order-router", entity, json.dumps([str(p) for p in parts]))


def test_ids_keep_their_golden_values() -> None:
    # Computed with the original definition (_reference) before the fast path existed.
    reservation = ids.reservation_id("o-1", "L1", 'SKU-ü"x', "WH-A")
    assert reservation == uuid.UUID("4b5e10df-48a3-5470-b38c-741fc1d0bee1")
    assert ids.event_id("c", "stock.reserved", "x", 3) == uuid.UUID("0084cf96-f7fd-5be2-8402-fdbfe201f96a")


_part = st.one_of(st.text(), st.integers(), st.uuids())


@given(cause=st.text(), kind=st.text(), parts=st.lists(_part, max_size=4))
def test_ids_equal_the_canonical_id_of_their_json_encoded_parts(
    cause: str, kind: str, parts: list[object]
) -> None:
    assert ids.event_id(cause, kind, *parts) == _reference("event", cause, kind, *parts)


@given(order=st.text(), line=st.text(), sku=st.text(), location=st.text(), sequence=st.integers())
def test_every_id_kind_matches_its_definition(
    order: str, line: str, sku: str, location: str, sequence: int
) -> None:
    assert ids.reservation_id(order, line, sku, location) == _reference(
        "reservation-v2", order, line, sku, location
    )
    legacy = ids.legacy_reservation_id(order, line, location)
    assert legacy == _reference("reservation", order, line, location)
    assert ids.fulfillment_order_id(order, location) == _reference("fulfillment-order", order, location)
    assert ids.request_id(order, sequence, sku, "allocate") == str(
        _reference("request", order, sequence, sku, "allocate")
    )
    assert ids.fill_id(sku, sequence) == str(_reference("fill", sku, sequence))
