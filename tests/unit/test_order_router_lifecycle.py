"""Re-planning only what changed, cancellation, and the fulfillment orders that follow."""

from __future__ import annotations

import pytest

from services.order_router.lifecycle import (
    Ask,
    LineState,
    OrderState,
    Release,
    cancel,
    diff,
    fulfillment_changes,
    fulfillment_view,
)
from services.order_router.matching import LineRoute
from services.order_router.rules import Policy

pytestmark = pytest.mark.unit

R = Policy.RANKED


def _route(line_id: str, sku: str, qty: int, locs: tuple[str, ...] = ("L1", "L2")) -> LineRoute:
    return LineRoute(line_id, sku, qty, locs, R, "default")


def _lines() -> dict[str, LineState]:
    return {
        "1": LineState("A", 5, ("L1", "L2"), R, {"L1": 2, "L2": 2}, 1),
        "2": LineState("B", 1, ("L1", "L2"), R, {"L1": 1}, 0),
    }


def test_an_unchanged_order_changes_nothing() -> None:
    after, releases, asks = diff(_lines(), [_route("1", "A", 5), _route("2", "B", 1)])
    assert (releases, asks) == ([], [])
    assert after == _lines()


def test_a_larger_quantity_asks_for_the_difference_only() -> None:
    after, releases, asks = diff(_lines(), [_route("1", "A", 8), _route("2", "B", 1)])
    assert releases == []
    assert asks == [Ask("1", "A", 3, ("L1", "L2"), R)]
    assert after["1"].at == {"L1": 2, "L2": 2}


def test_a_smaller_quantity_gives_back_backorder_then_the_least_preferred_location() -> None:
    after, releases, asks = diff(_lines(), [_route("1", "A", 2), _route("2", "B", 1)])
    assert asks == []
    # the backordered unit is given back too, so the SKU stage stops waiting for it
    assert releases == [Release("1", "A", None, 1), Release("1", "A", "L2", 2)]
    assert (after["1"].at, after["1"].backordered) == ({"L1": 2}, 0)


def test_removed_lines_and_changed_skus_are_released_and_placed_again() -> None:
    after, releases, asks = diff(_lines(), [_route("2", "C", 1)])
    assert releases == [
        Release("1", "A", "L1", 2),
        Release("1", "A", "L2", 2),
        Release("1", "A", None, 1),
        Release("2", "B", "L1", 1),
    ]
    assert asks == [Ask("2", "C", 1, ("L1", "L2"), R)]
    assert list(after) == ["2"]


def test_cancel_releases_every_reserved_unit_and_every_backorder() -> None:
    releases = cancel(_lines())
    assert sum(r.quantity for r in releases if r.location is not None) == 5
    assert [r for r in releases if r.location is None] == [Release("1", "A", None, 1)]


def test_fulfillment_orders_are_created_updated_and_cancelled() -> None:
    before = fulfillment_view(_lines())
    assert before == {"L1": {"1": ("A", 2), "2": ("B", 1)}, "L2": {"1": ("A", 2)}}
    lines = _lines()
    lines["1"].at = {"L1": 2, "L3": 2}
    changes = fulfillment_changes(before, fulfillment_view(lines))
    assert [(c.location, c.change) for c in changes] == [("L3", "CREATED"), ("L2", "CANCELLED")]
    cancelled = next(c for c in changes if c.change == "CANCELLED")
    assert cancelled.lines == {"1": ("A", 2)}


def test_state_survives_its_json_form() -> None:
    state = OrderState(
        lines=_lines(), fulfillment=fulfillment_view(_lines()), asks=[Ask("1", "A", 1, ("L1",), R)]
    )
    assert OrderState.from_json(state.to_json()) == state
