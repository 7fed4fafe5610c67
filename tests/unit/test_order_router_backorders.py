"""Backorders filled when stock arrives, and reservation ids that never span two stock positions."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from bus.service import Emit, StatePut
from schemas.fulfillment.models import FulfillmentChange
from schemas.inventory.models import ReservationKind
from schemas.orders.models import OrderChange, RoutingStatus
from services.order_router.ids import legacy_reservation_id, reservation_id
from services.order_router.messages import LineRelease, ReleaseCommand
from services.order_router.sku_stage import HOLDS, SKUS, SkuStage
from tests.order_router_sim import MemoryContext, RouterSim
from tests.order_router_support import RouterBus, line, order_event
from tests.unit.test_order_router_interleavings import RULES as SIM_RULES
from tests.unit.test_order_router_interleavings import check_reservations

pytestmark = pytest.mark.unit


def _latest(bus: RouterBus, native: str) -> tuple[RoutingStatus, int, list[tuple[str | None, int]]]:
    routed = next(r for r in bus.latest().values() if r.order_native_id == native)
    return routed.status, routed.revision, [(a.location, a.quantity) for a in routed.allocations]


def test_a_backorder_is_filled_when_stock_arrives_and_the_decision_is_republished() -> None:
    bus = RouterBus()
    bus.stock("A", "WH-A", 1)
    bus.send_order(order_event("1", [line("1", "A", 3)]))
    assert _latest(bus, "1") == (RoutingStatus.BACKORDERED, 1, [("WH-A", 1), (None, 2)])
    bus.stock("A", "WH-B", 5)  # a receipt at the second location of the line
    assert _latest(bus, "1") == (RoutingStatus.ROUTED, 2, [("WH-A", 1), ("WH-B", 2)])
    assert bus.routed()[-1].metadata.event_type == "order.rerouted"
    assert [(f.change, f.location) for f in bus.fulfillment()] == [
        (FulfillmentChange.CREATED, "WH-A"),
        (FulfillmentChange.CREATED, "WH-B"),
    ]
    assert bus.outstanding() == {("A", "WH-A"): 1, ("A", "WH-B"): 2}
    before = len(bus.routed())
    bus.stock("A", "WH-B", 9)  # more stock: nothing is waiting any more
    assert len(bus.routed()) == before
    assert bus.dead_letters() == []


def test_fills_go_first_placed_first_served_whatever_order_the_backorders_arrived_in() -> None:
    bus = RouterBus()
    bus.send_order(order_event("late", [line("1", "A", 2)], placed_s=100))
    bus.send_order(order_event("early", [line("1", "A", 2)], placed_s=10))
    bus.stock("A", "WH-A", 3)
    assert _latest(bus, "early") == (RoutingStatus.ROUTED, 2, [("WH-A", 2)])
    assert _latest(bus, "late") == (RoutingStatus.BACKORDERED, 2, [("WH-A", 1), (None, 1)])
    bus.stock("A", "WH-B", 1)
    assert _latest(bus, "late") == (RoutingStatus.ROUTED, 3, [("WH-A", 1), ("WH-B", 1)])
    assert bus.outstanding() == {("A", "WH-A"): 3, ("A", "WH-B"): 1}


def test_cancelled_and_reduced_backorders_are_not_filled() -> None:
    bus = RouterBus()
    bus.send_order(order_event("1", [line("1", "A", 2)], placed_s=1))
    bus.send_order(order_event("2", [line("1", "A", 4)], placed_s=2))
    bus.send_order(order_event("3", [line("1", "A", 1)], placed_s=3))
    bus.send_order(
        order_event("1", [line("1", "A", 2)], change=OrderChange.CANCELLED, at_s=5, cancelled=True)
    )
    bus.send_order(order_event("2", [line("1", "A", 1)], change=OrderChange.UPDATED, at_s=5))
    bus.stock("A", "WH-A", 10)
    assert _latest(bus, "1")[0] is RoutingStatus.CANCELLED
    assert _latest(bus, "2") == (RoutingStatus.ROUTED, 3, [("WH-A", 1)])  # placed, reduced, filled
    assert _latest(bus, "3") == (RoutingStatus.ROUTED, 2, [("WH-A", 1)])
    assert bus.outstanding() == {("A", "WH-A"): 2}


def test_a_held_order_keeps_filled_units_but_ships_them_only_when_the_hold_clears() -> None:
    bus = RouterBus()
    bus.send_order(order_event("1", [line("1", "A", 2)]))
    bus.send_order(
        order_event("1", [line("1", "A", 2)], change=OrderChange.UPDATED, at_s=5, tags=["fraud-hold"])
    )
    bus.stock("A", "WH-A", 5)
    assert bus.outstanding() == {("A", "WH-A"): 2}  # reserved for the order...
    assert bus.fulfillment() == []  # ...but nothing to ship while it is held
    assert _latest(bus, "1")[0] is RoutingStatus.HELD
    bus.send_order(order_event("1", [line("1", "A", 2)], change=OrderChange.UPDATED, at_s=9))
    assert _latest(bus, "1")[0] is RoutingStatus.ROUTED
    assert [(f.change, f.location) for f in bus.fulfillment()] == [(FulfillmentChange.CREATED, "WH-A")]


def test_fills_are_deterministic() -> None:
    def run() -> dict[str, list[tuple[bytes | None, bytes | None]]]:
        bus = RouterBus()
        bus.send_order(order_event("1", [line("1", "A", 2)], placed_s=2))
        bus.send_order(order_event("2", [line("1", "A", 2)], placed_s=1))
        bus.stock("A", "WH-B", 3)
        return {t: bus.raw(t) for t in ("routed", "reservations", "fulfillment", "by-order")}

    assert run() == run()


def test_a_fill_racing_a_cancellation_is_given_back() -> None:
    sim = RouterSim(SIM_RULES, "A", {}, check_reservations)
    sim.stock("L1", count=0)
    sim.order(order_event("1", [line("0", "A", 2)]))
    sim.drain()
    sim.stock("L1", count=5)
    sim.deliver("level:L1")
    sim.deliver("by-sku")  # the SKU stage fills the backorder; its answer is on the way
    (reply_stream,) = [s for s in sim.ready() if s.startswith("reply:")]
    sim.order(order_event("1", [line("0", "A", 2)], change=OrderChange.CANCELLED, at_s=5, cancelled=True))
    sim.drain()  # the cancellation overtakes the fill (drain picks streams by name: order before reply)
    assert reply_stream not in sim.ready()
    assert sim.own() == {}
    assert [r.kind for r in sim.reservations] == [ReservationKind.RESERVE, ReservationKind.RELEASE]
    assert sim.backlog() == []


def test_a_line_changing_sku_holds_a_new_reservation_on_the_new_position() -> None:
    bus = RouterBus()
    bus.stock("A", "WH-A", 10)
    bus.stock("B", "WH-A", 10)
    bus.send_order(order_event("1", [line("1", "A", 5)]))
    bus.send_order(order_event("1", [line("1", "B", 3)], change=OrderChange.UPDATED, at_s=5))
    events = [(r.kind, r.sku, r.quantity) for r in bus.reservations()]
    # before the fix: RESERVE B 8, under A's reservation id (the projector saw 8 reserved of B)
    assert events == [
        (ReservationKind.RESERVE, "A", 5),
        (ReservationKind.RELEASE, "A", 5),
        (ReservationKind.RESERVE, "B", 3),
    ]
    ids = {(r.sku, r.reservation_id) for r in bus.reservations()}
    assert len({rid for _, rid in ids}) == 2
    assert bus.outstanding() == {("A", "WH-A"): 0, ("B", "WH-A"): 3}


def test_a_reservation_made_before_the_upgrade_is_released_under_its_old_id() -> None:
    order_id = "00000000-0000-0000-0000-000000000001"
    legacy = legacy_reservation_id(order_id, "1", "WH-A")
    stores: dict[str, dict[str, str]] = defaultdict(dict)
    stores[HOLDS][str(legacy)] = json.dumps({"q": 4, "rl": 1, "at": 10})
    stores[SKUS]["A"] = json.dumps({"lv": {}, "own": {"WH-A": 3}})  # the pre-upgrade form
    release = ReleaseCommand(
        request_id="r1",
        order_id=order_id,
        sku="A",
        at_ms=20,
        placed_at_ms=0,
        causation_id="c",
        correlation_id="c",
        releases=(LineRelease(line_id="1", location="WH-A", quantity=5),),
    )
    out = SkuStage("by-order", "reservations").release(release, MemoryContext(stores))
    records = [o.value for o in out if isinstance(o, Emit) and o.topic == "reservations"]
    assert [(r.kind, r.reservation_id, r.quantity) for r in records] == [(ReservationKind.RELEASE, legacy, 3)]
    assert reservation_id(order_id, "1", "A", "WH-A") != legacy
    puts = {(o.store, o.key): o.value for o in out if isinstance(o, StatePut)}
    assert puts[(SKUS, "A")]["own"] == {"WH-A": 0}
