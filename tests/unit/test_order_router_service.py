"""The router end to end on the in-memory bus (production record path, Avro via mock registry)."""

from __future__ import annotations

import uuid
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.fulfillment.models import FulfillmentChange
from schemas.ids import stock_key
from schemas.inventory.models import ReservationKind
from schemas.orders.models import FinancialStatus, OrderChange, RoutingStatus
from tests.order_router_support import RouterBus, level, line, order_event

pytestmark = pytest.mark.unit


def _routed_lines(bus: RouterBus, native: str) -> list[tuple[str, str | None, int]]:
    latest = next(r for r in bus.latest().values() if r.order_native_id == native)
    return [(a.order_line_id, a.location, a.quantity) for a in latest.allocations]


def test_an_order_is_split_reserved_and_backordered() -> None:
    bus = RouterBus()
    bus.stock("A", "WH-A", 3)
    bus.stock("A", "WH-B", 5)
    bus.send_order(order_event("1", [line("1", "A", 6), line("2", "HAZ-1", 1)]))
    assert _routed_lines(bus, "1") == [("1", "WH-A", 3), ("1", "WH-B", 3), ("2", None, 1)]
    routed = bus.routed()[-1]
    assert (routed.status, routed.erp_entity, routed.rules_version) == (
        RoutingStatus.BACKORDERED,
        "US-SUB",
        "test-1",
    )
    assert routed.metadata.event_type == "order.routed"
    assert [(f.change, f.location, [(x.sku, x.quantity) for x in f.lines]) for f in bus.fulfillment()] == [
        (FulfillmentChange.CREATED, "WH-A", [("A", 3)]),
        (FulfillmentChange.CREATED, "WH-B", [("A", 3)]),
    ]
    assert bus.outstanding() == {("A", "WH-A"): 3, ("A", "WH-B"): 3}
    assert bus.dead_letters() == []


def test_two_orders_never_get_the_same_unit_before_the_projector_catches_up() -> None:
    bus = RouterBus()
    bus.stock("A", "WH-A", 2)
    bus.send_order(order_event("1", [line("1", "A", 2)]))
    bus.send_order(order_event("2", [line("1", "A", 1)]))  # the level still says on_hand 2, reserved 0
    assert _routed_lines(bus, "2") == [("1", None, 1)]
    bus.send_level(level("A", "WH-A", 2, reserved=2, revision=2))  # the projector caught up
    bus.send_order(order_event("3", [line("1", "A", 1)]))
    assert _routed_lines(bus, "3") == [("1", None, 1)]


def test_an_update_re_plans_only_what_changed() -> None:
    bus = RouterBus()
    bus.stock("A", "WH-A", 10)
    bus.stock("B", "WH-A", 10)
    bus.send_order(order_event("1", [line("1", "A", 2), line("2", "B", 2)]))
    before = len(bus.reservations())
    bus.send_order(
        order_event("1", [line("1", "A", 5), line("2", "B", 2)], change=OrderChange.UPDATED, at_s=10)
    )
    new = bus.reservations()[before:]
    assert [(r.kind, r.sku, r.quantity) for r in new] == [(ReservationKind.RESERVE, "A", 5)]  # cumulative
    assert bus.outstanding() == {("A", "WH-A"): 5, ("B", "WH-A"): 2}
    bus.send_order(order_event("1", [line("1", "A", 1)], change=OrderChange.UPDATED, at_s=20))
    assert bus.outstanding() == {("A", "WH-A"): 1, ("B", "WH-A"): 0}
    assert bus.fulfillment()[-1].change is FulfillmentChange.UPDATED
    assert [(x.sku, x.quantity) for x in bus.fulfillment()[-1].lines] == [("A", 1)]
    assert bus.routed()[-1].metadata.event_type == "order.rerouted"


def test_cancellation_releases_everything_and_cancels_fulfillment_orders() -> None:
    bus = RouterBus()
    bus.stock("A", "WH-A", 1)
    bus.stock("A", "WH-B", 5)
    bus.send_order(order_event("1", [line("1", "A", 3)]))
    bus.send_order(
        order_event("1", [line("1", "A", 3)], change=OrderChange.CANCELLED, at_s=5, cancelled=True)
    )
    assert set(bus.outstanding().values()) == {0}
    assert sorted((f.location, f.change) for f in bus.fulfillment()[-2:]) == [
        ("WH-A", FulfillmentChange.CANCELLED),
        ("WH-B", FulfillmentChange.CANCELLED),
    ]
    assert bus.routed()[-1].status is RoutingStatus.CANCELLED
    bus.send_order(order_event("1", [line("1", "A", 3)], change=OrderChange.UPDATED, at_s=9))
    assert bus.routed()[-1].status is RoutingStatus.CANCELLED  # cancelled is final


def test_a_payment_hold_parks_the_order_until_it_clears() -> None:
    bus = RouterBus()
    bus.stock("A", "WH-A", 5)
    bus.send_order(order_event("1", [line("1", "A", 1)], status=FinancialStatus.PENDING))
    assert bus.reservations() == []
    assert (bus.routed()[-1].status, bus.routed()[-1].hold_reason) == (
        RoutingStatus.HELD,
        "financial status PENDING",
    )
    bus.send_order(order_event("1", [line("1", "A", 1)], change=OrderChange.UPDATED, at_s=5))
    assert bus.routed()[-1].status is RoutingStatus.ROUTED
    assert bus.outstanding() == {("A", "WH-A"): 1}


def test_replays_and_stale_events_produce_nothing_new() -> None:
    bus = RouterBus()
    bus.stock("A", "WH-A", 5)
    first = order_event("1", [line("1", "A", 2)])
    bus.send_order(first)
    newer = order_event("1", [line("1", "A", 3)], change=OrderChange.UPDATED, at_s=10)
    bus.send_order(newer)
    counts = {t: len(bus.bus.topics[t]) for t in ("routed", "reservations", "fulfillment", "by-sku")}
    bus.send_order(first)  # same event id
    bus.send_order(newer)
    bus.send_order(order_event("1", [line("1", "A", 2)], change=OrderChange.UPDATED, at_s=1))  # older
    bus.send_order(
        newer.model_copy(update={"metadata": newer.metadata.model_copy(update={"event_id": uuid.uuid4()})})
    )
    assert {t: len(bus.bus.topics[t]) for t in counts} == counts


def test_fewest_shipments_across_skus_consolidates_with_a_quote_round() -> None:
    bus = RouterBus()
    for sku, location, units in [("A", "WH-A", 5), ("A", "WH-C", 5), ("B", "WH-B", 5), ("B", "WH-C", 5)]:
        bus.stock(sku, location, units)
    bus.send_order(order_event("1", [line("1", "A", 2), line("2", "B", 2)], tags=["consolidate"]))
    assert _routed_lines(bus, "1") == [("1", "WH-C", 2), ("2", "WH-C", 2)]
    assert [f.location for f in bus.fulfillment()] == ["WH-C"]


def test_the_same_inputs_give_the_same_bytes() -> None:
    def run() -> dict[str, list[tuple[bytes | None, bytes | None]]]:
        bus = RouterBus()
        bus.stock("A", "WH-A", 2)
        bus.send_order(order_event("1", [line("1", "A", 3)]))
        bus.send_order(order_event("1", [line("1", "A", 1)], change=OrderChange.UPDATED, at_s=3))
        return {t: bus.raw(t) for t in ("routed", "reservations", "fulfillment")}

    assert run() == run()


orders_strategy = st.lists(
    st.tuples(
        st.lists(st.tuples(st.sampled_from(["A", "B"]), st.integers(1, 6)), min_size=1, max_size=3),
        st.booleans(),  # cancel afterwards
        st.sampled_from([[], ["consolidate"]]),
    ),
    min_size=1,
    max_size=8,
)
stock_strategy = st.dictionaries(
    st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(["WH-A", "WH-B", "WH-C"])),
    st.integers(0, 8),
    min_size=1,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders=orders_strategy, stock=stock_strategy)
def test_random_orders_place_every_unit_once_within_the_stock_seen(
    orders: list[tuple[list[tuple[str, int]], bool, list[str]]], stock: dict[tuple[str, str], int]
) -> None:
    bus = RouterBus()
    for (sku, location), units in sorted(stock.items()):
        bus.stock(sku, location, units)
    for index, (lines, _, tags) in enumerate(orders):
        bus.send_order(
            order_event(str(index), [line(str(n), s, q) for n, (s, q) in enumerate(lines)], tags=tags)
        )
    latest = {r.order_native_id: r for r in bus.latest().values()}
    assert len(latest) == len(orders)  # every order gets a decision
    for index, (lines, _, _) in enumerate(orders):
        placed: dict[str, int] = defaultdict(int)
        for a in latest[str(index)].allocations:
            placed[a.order_line_id] += a.quantity
        assert placed == {str(n): q for n, (_, q) in enumerate(lines)}
    held = bus.outstanding()
    for key, units in held.items():
        assert units <= stock.get(key, 0)
    routed_units: dict[tuple[str, str], int] = defaultdict(int)
    for r in latest.values():
        for a in r.allocations:
            if a.location is not None:
                routed_units[(a.sku, a.location)] += a.quantity
    assert {k: v for k, v in held.items() if v} == dict(routed_units)
    for index, (lines, cancel, tags) in enumerate(orders):
        if cancel:
            bus.send_order(
                order_event(
                    str(index),
                    [line(str(n), s, q) for n, (s, q) in enumerate(lines)],
                    tags=tags,
                    change=OrderChange.CANCELLED,
                    at_s=60,
                    cancelled=True,
                )
            )
    cancelled = {str(i) for i, (_, cancel, _) in enumerate(orders) if cancel}
    still: dict[tuple[str, str], int] = defaultdict(int)
    for r in bus.latest().values():
        if r.order_native_id in cancelled:
            assert r.status is RoutingStatus.CANCELLED
            continue
        for a in r.allocations:
            if a.location is not None:
                still[(a.sku, a.location)] += a.quantity
    assert {k: v for k, v in bus.outstanding().items() if v} == dict(still)
    assert bus.dead_letters() == []


def test_metrics_count_first_decisions_splits_and_backorders() -> None:
    from prometheus_client import CollectorRegistry

    from bus.service import Emit
    from services.order_router.metrics import RouterMetrics

    bus = RouterBus()
    bus.stock("A", "WH-A", 1)
    bus.stock("A", "WH-B", 1)
    bus.send_order(order_event("1", [line("1", "A", 3)]))
    bus.send_order(order_event("1", [line("1", "A", 2)], change=OrderChange.UPDATED, at_s=5))
    registry = CollectorRegistry()
    metrics = RouterMetrics(registry)
    metrics.observe_outputs([Emit("routed", None, routed) for routed in bus.routed()])
    assert registry.get_sample_value("order_router_decisions_total", {"event_type": "order.routed"}) == 1
    assert registry.get_sample_value("order_router_decisions_total", {"event_type": "order.rerouted"}) == 1
    assert registry.get_sample_value("order_router_orders_split_total") == 1
    assert registry.get_sample_value("order_router_backordered_units_total") == 1
    assert registry.get_sample_value("order_router_placed_to_routed_seconds_count") == 1


def test_every_reservation_also_goes_out_keyed_by_sku() -> None:
    """The projector reads the second copy (its inputs are keyed by SKU); the first keeps its key."""
    bus = RouterBus()
    bus.stock("A", "WH-A", 3)
    bus.stock("A", "WH-B", 5)
    bus.send_order(order_event("1", [line("1", "A", 6)]))
    bus.send_order(order_event("1", [line("1", "A", 1)], change=OrderChange.UPDATED, at_s=10))
    by_position = bus.reservations()
    by_sku = bus.decoded(bus.settings.reservations_by_sku_topic)
    assert {r.kind for r in by_sku} == {ReservationKind.RESERVE, ReservationKind.RELEASE}
    assert by_sku == by_position
    assert [key for key, _ in bus.raw(bus.settings.reservations_by_sku_topic)] == [
        r.sku.encode() for r in by_sku
    ]
    assert [key for key, _ in bus.raw(bus.settings.reservations_topic)] == [
        str(stock_key(r.sku, r.location)).encode() for r in by_position
    ]
