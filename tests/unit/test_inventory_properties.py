"""Property: any interleaving and duplication of the same events yields the same final levels."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.inventory.models import MovementKind as K
from schemas.inventory.models import ReservationEvent, StockMovementEvent
from schemas.inventory.models import ReservationKind as R
from services.inventory_projector.handler import make_handler
from tests.inventory_support import EPOCH_MS, Driver, movement, reservation
from tests.inventory_support import settings as projector_settings

pytestmark = pytest.mark.unit

POSITIONS = [("SKU-1", "WH1"), ("SKU-1", "WH2"), ("SKU-2", "WH1")]
AT = st.integers(min_value=0, max_value=8)  # few instants: many ties between counts and deltas
# Reservations come from another clock (the order router's, often "now"): sometimes far later.
RESERVED_AT = AT | st.integers(min_value=10**9, max_value=10**9 + 8)
SIGNED = {K.RECEIPT: 1, K.RETURN_RESTOCK: 1, K.TRANSFER_IN: 1, K.SHIPMENT: -1, K.TRANSFER_OUT: -1}


@st.composite
def deltas(draw: st.DrawFn) -> StockMovementEvent:
    sku, location = draw(st.sampled_from(POSITIONS))
    kind = draw(st.sampled_from([*SIGNED, K.ADJUSTMENT]))
    size = draw(st.integers(min_value=0, max_value=20))
    quantity = size * SIGNED[kind] if kind in SIGNED else draw(st.integers(min_value=-20, max_value=20))
    return movement(kind, quantity, draw(AT), sku=sku, location=location)


@st.composite
def counts(draw: st.DrawFn) -> StockMovementEvent:
    sku, location = draw(st.sampled_from(POSITIONS))
    sequence = draw(st.none() | st.integers(min_value=0, max_value=3))
    quantity = draw(st.integers(min_value=0, max_value=200))
    return movement(K.ABSOLUTE_COUNT, quantity, draw(AT), sku=sku, location=location, sequence=sequence)


@st.composite
def reservations(draw: st.DrawFn) -> list[ReservationEvent]:
    sku, location = draw(st.sampled_from(POSITIONS))
    rid = uuid.uuid4()
    kinds = draw(st.lists(st.sampled_from([R.RESERVE, R.RELEASE, R.COMMIT]), min_size=1, max_size=4))
    return [
        reservation(
            kind,
            draw(st.integers(min_value=1, max_value=8)),
            draw(RESERVED_AT),
            reservation_id=rid,
            sku=sku,
            location=location,
        )
        for kind in kinds
    ]


def _expected(events: list[Any]) -> dict[tuple[str, str], tuple[int, int, int]]:
    """The oracle, straight from the documented rules, with no incremental state."""
    newest: dict[tuple[str, str], StockMovementEvent] = {}
    moves: dict[tuple[str, str], list[StockMovementEvent]] = defaultdict(list)
    held: dict[uuid.UUID, list[ReservationEvent]] = defaultdict(list)
    as_of: dict[tuple[str, str], int] = defaultdict(int)
    for event in events:
        position = (event.sku, event.location)
        as_of[position] = max(as_of[position], int(event.metadata.occurred_at.timestamp() * 1000))
        if isinstance(event, ReservationEvent):
            held[event.reservation_id].append(event)
        elif event.kind is K.ABSOLUTE_COUNT:
            key = _count_key(event)
            if position not in newest or key > _count_key(newest[position]):
                newest[position] = event
        else:
            moves[position].append(event)
    reserved: dict[tuple[str, str], int] = defaultdict(int)
    for items in held.values():
        reserves = [e for e in items if e.kind is R.RESERVE]
        latest = max(reserves, key=lambda e: (e.metadata.occurred_at, str(e.metadata.event_id)), default=None)
        taken = sum(e.quantity for e in items if e.kind is not R.RESERVE)
        reserved[(items[0].sku, items[0].location)] += max((latest.quantity if latest else 0) - taken, 0)
    result = {}
    for position in as_of:
        count = newest.get(position)
        since = None if count is None else count.metadata.occurred_at
        after = [m for m in moves[position] if since is None or m.metadata.occurred_at > since]
        on_hand = (count.quantity if count else 0) + sum(m.quantity for m in after)
        result[position] = (on_hand, reserved[position], as_of[position] - EPOCH_MS)
    return result


def _count_key(event: StockMovementEvent) -> tuple[Any, int, str]:
    sequence = -1 if event.source_sequence is None else event.source_sequence
    return (event.metadata.occurred_at, sequence, str(event.movement_id))


def _final(events: list[Any]) -> dict[tuple[str, str], tuple[int, int, int]]:
    config = projector_settings()
    driver = Driver(make_handler(config), config)
    driver.feed(events)
    result = {}
    for sku, location in {(e.sku, e.location) for e in events}:
        position = driver.position(sku, location)
        result[(sku, location)] = (position.on_hand, position.reserved, position.as_of_ms - EPOCH_MS)
        published = [lv for lv in driver.on("levels") if (lv.sku, lv.location) == (sku, location)]
        assert (published[-1].on_hand, published[-1].reserved) == result[(sku, location)][:2]
    return result


@settings(max_examples=150, deadline=None)
@given(
    st.lists(deltas(), max_size=14),
    st.lists(counts(), max_size=5),
    st.lists(reservations(), max_size=4),
    st.data(),
)
def test_any_interleaving_and_duplication_gives_the_same_levels(
    delta_events: list[StockMovementEvent],
    count_events: list[StockMovementEvent],
    reservation_groups: list[list[ReservationEvent]],
    data: st.DataObject,
) -> None:
    events: list[Any] = [*delta_events, *count_events, *(e for group in reservation_groups for e in group)]
    if not events:
        return
    shuffled = data.draw(st.permutations(events))
    repeats = data.draw(st.lists(st.sampled_from(events), max_size=len(events)))
    for repeat in repeats:
        shuffled.insert(data.draw(st.integers(min_value=0, max_value=len(shuffled))), repeat)
    expected = _expected(events)
    assert _final(events) == expected
    assert _final(shuffled) == expected
