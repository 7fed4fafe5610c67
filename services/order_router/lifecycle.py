"""An order's routing state and how it changes: re-plan only what changed, cancel, hold.

Pure functions over :class:`OrderState` (stored as JSON in the ``orders`` store). While requests to
the SKU stage are in flight the order is *busy*; a newer order event waits in ``queued`` and is
applied when the last answer arrived, so plans never interleave.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from services.order_router.matching import LineRoute
from services.order_router.rules import Policy

__all__ = [
    "Ask",
    "FoChange",
    "FoView",
    "LineState",
    "OrderState",
    "Phase",
    "Release",
    "Status",
    "cancel",
    "diff",
    "fulfillment_changes",
    "fulfillment_view",
    "ranked_locations",
]


FoView = dict[str, dict[str, tuple[str, int]]]
"""location -> line id -> (sku, units): what each location's fulfillment order ships."""


class Status(StrEnum):
    NEW = "NEW"
    HELD = "HELD"
    ROUTED = "ROUTED"
    CANCELLED = "CANCELLED"


class Phase(StrEnum):
    IDLE = "IDLE"
    QUOTING = "QUOTING"
    ALLOCATING = "ALLOCATING"


@dataclass(slots=True)
class LineState:
    sku: str
    quantity: int
    locations: tuple[str, ...]
    policy: Policy
    at: dict[str, int] = field(default_factory=dict)
    backordered: int = 0

    @property
    def placed(self) -> int:
        return sum(self.at.values()) + self.backordered

    def to_json(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "q": self.quantity,
            "locs": list(self.locations),
            "pol": self.policy.value,
            "at": self.at,
            "bo": self.backordered,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LineState:
        return cls(
            sku=data["sku"],
            quantity=data["q"],
            locations=tuple(data["locs"]),
            policy=Policy(data["pol"]),
            at={k: int(v) for k, v in data["at"].items()},
            backordered=int(data["bo"]),
        )


@dataclass(frozen=True, slots=True)
class Release:
    """Units a line gives back: reserved at ``location``, or backordered (``location`` None)."""

    line_id: str
    sku: str
    location: str | None
    quantity: int


@dataclass(frozen=True, slots=True)
class Ask:
    """Units of a line still to place."""

    line_id: str
    sku: str
    quantity: int
    locations: tuple[str, ...]
    policy: Policy


@dataclass(slots=True)
class OrderState:
    status: Status = Status.NEW
    phase: Phase = Phase.IDLE
    sequence: int = 0  # plans started (request ids derive from it)
    revision: int = 0  # routed-order events published
    routed_once: bool = False  # a routing decision (not a hold) was published
    last_at_ms: int = -1  # occurred-at of the newest applied order event
    fingerprint: str = ""
    seen: list[str] = field(default_factory=list)  # the last event ids applied (replays are dropped)
    order: dict[str, Any] = field(default_factory=dict)  # what outputs repeat: ids, address, channel
    cause: dict[str, Any] = field(default_factory=dict)  # the order event being applied
    entity: str | None = None
    rule_ids: list[str] = field(default_factory=list)
    hold: str | None = None
    lines: dict[str, LineState] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)
    asks: list[Ask] = field(default_factory=list)
    quotes: dict[str, dict[str, int]] = field(default_factory=dict)
    fulfillment: FoView = field(default_factory=dict)  # as published
    published: str = ""  # digest of the last routed-order event's content
    queued: dict[str, Any] | None = None  # a newer order event waiting for the plan in flight

    def to_json(self) -> dict[str, Any]:
        return {
            "st": self.status.value,
            "ph": self.phase.value,
            "seq": self.sequence,
            "rev": self.revision,
            "r1": self.routed_once,
            "last": self.last_at_ms,
            "fp": self.fingerprint,
            "seen": self.seen,
            "order": self.order,
            "cause": self.cause,
            "entity": self.entity,
            "rules": self.rule_ids,
            "hold": self.hold,
            "lines": {k: v.to_json() for k, v in self.lines.items()},
            "pending": self.pending,
            "asks": [[a.line_id, a.sku, a.quantity, list(a.locations), a.policy.value] for a in self.asks],
            "quotes": self.quotes,
            "fo": {
                loc: {lid: list(v) for lid, v in lines.items()} for loc, lines in self.fulfillment.items()
            },
            "pub": self.published,
            "queued": self.queued,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> OrderState:
        if data is None:
            return cls()
        return cls(
            status=Status(data["st"]),
            phase=Phase(data["ph"]),
            sequence=data["seq"],
            revision=data["rev"],
            routed_once=data["r1"],
            last_at_ms=data["last"],
            fingerprint=data["fp"],
            seen=list(data["seen"]),
            order=dict(data["order"]),
            cause=dict(data["cause"]),
            entity=data["entity"],
            rule_ids=list(data["rules"]),
            hold=data["hold"],
            lines={k: LineState.from_json(v) for k, v in data["lines"].items()},
            pending=list(data["pending"]),
            asks=[Ask(a[0], a[1], a[2], tuple(a[3]), Policy(a[4])) for a in data["asks"]],
            quotes={k: dict(v) for k, v in data["quotes"].items()},
            fulfillment={
                loc: {lid: (str(v[0]), int(v[1])) for lid, v in lines.items()}
                for loc, lines in data["fo"].items()
            },
            published=data["pub"],
            queued=data["queued"],
        )


def _release_all(line_id: str, line: LineState) -> list[Release]:
    releases = [
        Release(line_id, line.sku, loc, line.at[loc]) for loc in ranked_locations(line) if line.at[loc] > 0
    ]
    if line.backordered:
        releases.append(Release(line_id, line.sku, None, line.backordered))
    return releases


def _shrink(line_id: str, line: LineState, units: int) -> list[Release]:
    """Give back ``units`` of a line: backorder first, then the least preferred locations."""
    from_backorder = min(line.backordered, units)
    line.backordered -= from_backorder
    units -= from_backorder
    releases: list[Release] = []
    if from_backorder:
        releases.append(Release(line_id, line.sku, None, from_backorder))
    for location in reversed(ranked_locations(line)):
        if units == 0:
            break
        take = min(line.at[location], units)
        if take > 0:
            releases.append(Release(line_id, line.sku, location, take))
            line.at[location] -= take
            units -= take
        if line.at[location] == 0:
            del line.at[location]
    return releases


def diff(
    lines: Mapping[str, LineState], routes: Sequence[LineRoute]
) -> tuple[dict[str, LineState], list[Release], list[Ask]]:
    """New line states, units to release and units to place, touching only lines that changed.

    A line whose SKU changed is released and placed again; a smaller quantity gives back backorder
    first, then the least preferred locations; a larger one asks for the difference only. A line's
    existing allocations stay where they are even when the rules now rank locations differently.
    """
    wanted = {route.line_id: route for route in routes}
    releases: list[Release] = []
    asks: list[Ask] = []
    after: dict[str, LineState] = {}
    for line_id, line in lines.items():
        route = wanted.get(line_id)
        if route is None or route.sku != line.sku:
            releases.extend(_release_all(line_id, line))
    for route in routes:
        old = lines.get(route.line_id)
        if old is None or old.sku != route.sku:
            line = LineState(route.sku, route.quantity, route.locations, route.policy)
            asks.append(Ask(route.line_id, route.sku, route.quantity, route.locations, route.policy))
        else:
            line = LineState(
                old.sku, route.quantity, route.locations, route.policy, dict(old.at), old.backordered
            )
            if route.quantity < old.placed:
                releases.extend(_shrink(route.line_id, line, old.placed - route.quantity))
            elif route.quantity > old.placed:
                more = route.quantity - old.placed
                asks.append(Ask(route.line_id, route.sku, more, route.locations, route.policy))
        after[route.line_id] = line
    return after, releases, asks


def cancel(lines: Mapping[str, LineState]) -> list[Release]:
    """Every reserved unit of the order, to release."""
    return [release for line_id, line in lines.items() for release in _release_all(line_id, line)]


def ranked_locations(line: LineState) -> list[str]:
    """The line's allocated locations, in its ranking (then any no longer ranked, by name)."""
    return [loc for loc in line.locations if loc in line.at] + sorted(set(line.at) - set(line.locations))


def fulfillment_view(lines: Mapping[str, LineState]) -> FoView:
    """What each location ships (locations in first-use order)."""
    view: FoView = {}
    for line_id, line in lines.items():
        for location in ranked_locations(line):
            if line.at[location] > 0:
                view.setdefault(location, {})[line_id] = (line.sku, line.at[location])
    return view


@dataclass(frozen=True, slots=True)
class FoChange:
    location: str
    change: str  # CREATED | UPDATED | CANCELLED
    lines: dict[str, tuple[str, int]]


def fulfillment_changes(before: FoView, after: FoView) -> list[FoChange]:
    """Fulfillment orders to publish: new locations created, changed ones updated, emptied ones
    cancelled (with the lines they no longer ship)."""
    changes: list[FoChange] = []
    locations: Iterable[str] = [*after, *sorted(set(before) - set(after))]
    for location in locations:
        old, new = before.get(location), after.get(location)
        if old is None and new:
            changes.append(FoChange(location, "CREATED", dict(new)))
        elif old is not None and not new:
            changes.append(FoChange(location, "CANCELLED", dict(old)))
        elif old is not None and new is not None and dict(old) != dict(new):
            changes.append(FoChange(location, "UPDATED", dict(new)))
    return changes
