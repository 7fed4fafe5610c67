"""The pure allocator: ranking, splitting, backorders, fewest shipments; properties over random input."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.order_router.allocation import Allocation, Demand, StockKey, allocate
from services.order_router.rules import Policy

pytestmark = pytest.mark.unit

LOCATIONS = ("L1", "L2", "L3")


def test_ranked_takes_the_best_location_then_splits_then_backorders() -> None:
    stock = {("A", "L1"): 2, ("A", "L2"): 3}
    plan = allocate(
        [Demand("1", "A", 4, ("L1", "L2")), Demand("2", "A", 3, ("L1", "L2"))], stock, Policy.RANKED
    )
    assert plan.allocations == (
        Allocation("1", "A", "L1", 2),
        Allocation("1", "A", "L2", 2),
        Allocation("2", "A", "L2", 1),
        Allocation("2", "A", None, 2),
    )
    assert plan.backordered == 2


def test_fewest_shipments_consolidates_at_a_lower_ranked_location() -> None:
    stock = {("A", "L1"): 5, ("B", "L1"): 0, ("A", "L2"): 5, ("B", "L2"): 5}
    demands = [Demand("1", "A", 1, ("L1", "L2")), Demand("2", "B", 1, ("L1", "L2"))]
    assert allocate(demands, stock, Policy.RANKED).locations == {"L1", "L2"}
    fewest = allocate(demands, stock, Policy.FEWEST_SHIPMENTS)
    assert fewest.locations == {"L2"}
    assert fewest.backordered == 0


def test_fewest_shipments_prefers_a_whole_line_over_a_split() -> None:
    stock = {("A", "L1"): 2, ("A", "L2"): 4}
    assert allocate([Demand("1", "A", 4, ("L1", "L2"))], stock, Policy.RANKED).locations == {"L1", "L2"}
    assert allocate([Demand("1", "A", 4, ("L1", "L2"))], stock, Policy.FEWEST_SHIPMENTS).allocations == (
        Allocation("1", "A", "L2", 4),
    )


def test_fewest_shipments_splits_what_no_location_can_ship_whole() -> None:
    stock = {("A", "L1"): 2, ("A", "L2"): 2, ("B", "L2"): 1}
    plan = allocate(
        [Demand("1", "A", 5, ("L1", "L2")), Demand("2", "B", 1, ("L1", "L2"))], stock, Policy.FEWEST_SHIPMENTS
    )
    assert plan.allocations == (
        Allocation("1", "A", "L2", 2),
        Allocation("1", "A", "L1", 2),
        Allocation("1", "A", None, 1),
        Allocation("2", "B", "L2", 1),
    )


def test_zero_or_negative_demand_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        Demand("1", "A", 0, ("L1",))


demands_strategy = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C"]),
        st.integers(1, 12),
        st.lists(st.sampled_from(LOCATIONS), min_size=1, max_size=3, unique=True),
    ),
    min_size=1,
    max_size=8,
)
stock_strategy = st.dictionaries(
    st.tuples(st.sampled_from(["A", "B", "C"]), st.sampled_from(LOCATIONS)), st.integers(-2, 15)
)


@settings(max_examples=300, deadline=None)
@given(raw=demands_strategy, stock=stock_strategy, policy=st.sampled_from(list(Policy)))
def test_every_unit_is_placed_exactly_once_within_stock(
    raw: list[tuple[str, int, list[str]]], stock: dict[StockKey, int], policy: Policy
) -> None:
    demands = [Demand(str(i), sku, qty, tuple(locs)) for i, (sku, qty, locs) in enumerate(raw)]
    plan = allocate(demands, stock, policy)
    placed: dict[str, int] = defaultdict(int)
    for item in plan.allocations:
        assert item.quantity > 0
        placed[item.line_id] += item.quantity
        demand = demands[int(item.line_id)]
        assert item.sku == demand.sku
        assert item.location is None or item.location in demand.locations
    assert placed == {d.line_id: d.quantity for d in demands}
    for key, used in plan.used().items():
        assert used <= max(stock.get(key, 0), 0)
    # nothing is backordered while a ranked location of the line still has its SKU in stock
    left = {key: max(units, 0) - plan.used().get(key, 0) for key, units in stock.items()}
    for item in plan.allocations:
        if item.location is None:
            demand = demands[int(item.line_id)]
            assert all(left.get((demand.sku, loc), 0) == 0 for loc in demand.locations)
    assert allocate(demands, stock, policy) == plan  # deterministic


@settings(max_examples=200, deadline=None)
@given(raw=demands_strategy, spare=st.integers(0, 3))
def test_fewest_shipments_uses_one_location_when_one_can_ship_everything(
    raw: list[tuple[str, int, list[str]]], spare: int
) -> None:
    demands = [Demand(str(i), sku, qty, (*tuple(locs), "L9")) for i, (sku, qty, locs) in enumerate(raw)]
    need: dict[str, int] = defaultdict(int)
    for d in demands:
        need[d.sku] += d.quantity
    stock = {(sku, "L9"): units + spare for sku, units in need.items()}
    stock.update({(sku, "L1"): 1 for sku in need})
    plan = allocate(demands, stock, Policy.FEWEST_SHIPMENTS)
    assert len(plan.locations) == 1
    assert plan.backordered == 0
