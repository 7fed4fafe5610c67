"""The pure allocator: lines x ranked locations x stock -> allocations and backorders.

* ``ranked``: each line, in order, takes what it can from its best location, then the next one, and
  so on (a line is split when its best location cannot serve all of it); what no location can serve
  is backordered.
* ``fewest_shipments``: prefer fewer distinct locations over strict ranking. Greedy set cover: take
  the location that can ship the most remaining lines whole (ties: more units, then the better
  summed rank, then the name), give it those lines, repeat; lines no single location can ship whole
  are then split, preferring locations already shipping this order, then by rank.

Every ordered unit ends up exactly once in an allocation (a location or the backorder), and no
location is given more than the stock passed in. Deterministic: the same input, the same plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.order_router.rules import Policy

__all__ = ["Allocation", "Demand", "Plan", "StockKey", "allocate"]

StockKey = tuple[str, str]
"""(sku, location)"""


@dataclass(frozen=True, slots=True)
class Demand:
    """Units of one order line to place, with the line's locations best first."""

    line_id: str
    sku: str
    quantity: int
    locations: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError(f"demand for line {self.line_id} must be positive, got {self.quantity}")


@dataclass(frozen=True, slots=True)
class Allocation:
    """``quantity`` units of a line at ``location``; ``location`` None means backordered."""

    line_id: str
    sku: str
    location: str | None
    quantity: int


@dataclass(frozen=True, slots=True)
class Plan:
    allocations: tuple[Allocation, ...]

    @property
    def backordered(self) -> int:
        return sum(a.quantity for a in self.allocations if a.location is None)

    @property
    def locations(self) -> frozenset[str]:
        return frozenset(a.location for a in self.allocations if a.location is not None)

    def used(self) -> dict[StockKey, int]:
        """Units taken per (sku, location)."""
        taken: dict[StockKey, int] = {}
        for a in self.allocations:
            if a.location is not None:
                taken[(a.sku, a.location)] = taken.get((a.sku, a.location), 0) + a.quantity
        return taken


def _take(
    demand: Demand, need: int, order: Sequence[str], available: dict[StockKey, int], out: list[Allocation]
) -> None:
    for location in order:
        if need == 0:
            break
        have = available.get((demand.sku, location), 0)
        take = min(need, max(have, 0))
        if take > 0:
            available[(demand.sku, location)] = have - take
            out.append(Allocation(demand.line_id, demand.sku, location, take))
            need -= take
    if need > 0:
        out.append(Allocation(demand.line_id, demand.sku, None, need))


def _ranked(demands: Sequence[Demand], available: dict[StockKey, int]) -> list[Allocation]:
    out: list[Allocation] = []
    for demand in demands:
        _take(demand, demand.quantity, demand.locations, available, out)
    return out


def _fewest(demands: Sequence[Demand], available: dict[StockKey, int]) -> list[Allocation]:
    whole: dict[int, str] = {}  # demand index -> the location shipping it whole
    remaining = list(range(len(demands)))
    while remaining:
        candidates = sorted({loc for i in remaining for loc in demands[i].locations})
        best: tuple[tuple[int, int, int, str], str, list[int]] | None = None
        for location in candidates:
            left = dict(available)
            covered: list[int] = []
            for i in remaining:
                d = demands[i]
                key = (d.sku, location)
                if location in d.locations and left.get(key, 0) >= d.quantity:
                    left[key] -= d.quantity
                    covered.append(i)
            if not covered:
                continue
            units = sum(demands[i].quantity for i in covered)
            rank = sum(demands[i].locations.index(location) for i in covered)
            score = (-len(covered), -units, rank, location)
            if best is None or score < best[0]:
                best = (score, location, covered)
        if best is None:
            break
        _, location, covered = best
        for i in covered:
            d = demands[i]
            available[(d.sku, location)] -= d.quantity
            whole[i] = location
        remaining = [i for i in remaining if i not in whole]
    shipping = set(whole.values())
    out: list[Allocation] = []
    for i, demand in enumerate(demands):
        if i in whole:
            out.append(Allocation(demand.line_id, demand.sku, whole[i], demand.quantity))
            continue
        order = [loc for loc in demand.locations if loc in shipping]
        order += [loc for loc in demand.locations if loc not in shipping]
        before = len(out)
        _take(demand, demand.quantity, order, available, out)
        shipping.update(a.location for a in out[before:] if a.location is not None)
    return out


def allocate(demands: Sequence[Demand], stock: Mapping[StockKey, int], policy: Policy) -> Plan:
    """Place ``demands`` on ``stock`` (units available per (sku, location)) under ``policy``."""
    available = {key: max(units, 0) for key, units in stock.items()}
    if policy is Policy.FEWEST_SHIPMENTS:
        return Plan(tuple(_fewest(demands, available)))
    return Plan(tuple(_ranked(demands, available)))
