"""The SKU stage's backlog: backordered units waiting for stock, first placed first served.

An entry is one order line's backordered units of the SKU, with the line's ranked locations. The
backlog is kept sorted by (placed-at, order id, line id), so fills are FIFO by order placement and
deterministic. Units leave it when stock arrives (a fill) or when the order no longer waits for them
(a shrink, a removed or re-SKU'd line, a cancellation: the order stage says so in its release).
"""

from __future__ import annotations

from bisect import insort
from dataclasses import dataclass
from typing import Any

__all__ = ["Waiting", "give_up", "wait"]


@dataclass(slots=True)
class Waiting:
    order_id: str
    line_id: str
    units: int
    locations: tuple[str, ...]
    placed_at_ms: int
    correlation_id: str

    def key(self) -> tuple[int, str, str]:
        return (self.placed_at_ms, self.order_id, self.line_id)

    def __lt__(self, other: Waiting) -> bool:
        return self.key() < other.key()

    def to_json(self) -> list[Any]:
        return [
            self.order_id,
            self.line_id,
            self.units,
            list(self.locations),
            self.placed_at_ms,
            self.correlation_id,
        ]

    @classmethod
    def from_json(cls, data: list[Any]) -> Waiting:
        return cls(data[0], data[1], int(data[2]), tuple(data[3]), int(data[4]), data[5])


def _find(backlog: list[Waiting], order_id: str, line_id: str) -> Waiting | None:
    return next((w for w in backlog if w.order_id == order_id and w.line_id == line_id), None)


def wait(backlog: list[Waiting], entry: Waiting) -> None:
    """Add backordered units; a line already waiting keeps its place and takes the newest locations."""
    known = _find(backlog, entry.order_id, entry.line_id)
    if known is None:
        insort(backlog, entry)
        return
    known.units += entry.units
    known.locations = entry.locations


def give_up(backlog: list[Waiting], order_id: str, line_id: str, units: int) -> None:
    """The order no longer waits for ``units`` of the line (at most what is still waiting)."""
    known = _find(backlog, order_id, line_id)
    if known is None:
        return  # already filled (the fill is on its way to the order, which gives it back)
    known.units -= min(units, known.units)
    if known.units == 0:
        backlog.remove(known)
