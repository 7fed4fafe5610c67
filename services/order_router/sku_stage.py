"""The SKU stage: one partition owns every location's stock of a SKU and allocates it, one command at
a time, so two orders can never be promised the same unit.

Units the router may promise at a location::

    available = max(on_hand - max(own_outstanding, level.reserved + moved) - safety_stock, 0)

``on_hand``, ``level.reserved`` and ``safety_stock`` come from the projector's latest level;
``own_outstanding`` is what this stage itself has reserved and not released, counted the moment it
reserves. The projector's ``reserved`` lags the router's own reservations (it folds them later) and
may lag its releases; ``moved`` (units this stage reserved minus units it released since that level
arrived) carries the projector's figure forward. The larger of the two is never below what is truly
held, so the router never promises a unit twice while the projector catches up (the router is the
only writer of reservations). Both terms move by exactly the units reserved or released, so
reserving ``n`` lowers ``available`` by ``n``: what one command or fill is offered is what the next
one no longer sees. (``max(level.reserved, own)`` did not: while the projector still showed units
released since, reserving did not lower it, so a fill left a line waiting on units a later order
could then take.)

Backordered units wait in the SKU's paged backlog (:mod:`.backorders`). Whenever units may have become
available (a newer level, a release) the stage fills the backlog first placed first, reserves what
it places and tells each order (:class:`RestockedReply`); the order stage takes the units or, when
it no longer waits for them, gives them back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from bus.service import Context, Emit, Outgoing, StatePut, StateView
from schemas.ids import stock_key
from schemas.inventory.models import ReservationEvent, ReservationKind
from services.order_router.allocation import Demand, allocate
from services.order_router.backorders import Backlog, Waiting
from services.order_router.ids import fill_id, legacy_reservation_id, reservation_id
from services.order_router.messages import (
    AllocateCommand,
    AllocatedReply,
    LevelUpdate,
    OrderReply,
    Placed,
    QuoteCommand,
    QuotedReply,
    ReleaseCommand,
    RestockedReply,
)
from services.order_router.records import reservation
from services.order_router.rules import Policy

__all__ = ["HOLDS", "REQUESTS", "SKUS", "SkuStage", "SkuStock"]

SKUS = "skus"
HOLDS = "holds"
REQUESTS = "requests"


@dataclass(slots=True)
class SkuStock:
    """The stage's view of one SKU: latest level per location, its own outstanding reservations,
    its net reservations since each location's level, the backlog of backordered units (paged: only
    its index is in the SKU's record) and how many fills it made (fill ids derive from it)."""

    levels: dict[str, dict[str, int | None]]
    own: dict[str, int]
    backlog: Backlog
    fills: int = 0
    moved: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, sku: str, view: StateView) -> SkuStock:
        data: dict[str, Any] | None = view.get(sku)
        backlog = Backlog(SKUS, sku, view, data)  # reads a pre-paging "bo" list and migrates it
        if data is None:
            return cls({}, {}, backlog)
        return cls(
            {k: dict(v) for k, v in data["lv"].items()},
            dict(data["own"]),
            backlog,
            int(data.get("fs", 0)),  # absent before backorder fills
            dict(data.get("mv", {})),  # absent before: the next level of a location starts it
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "lv": self.levels,
            "own": self.own,
            "bi": self.backlog.to_json(),
            "fs": self.fills,
            "mv": {k: v for k, v in self.moved.items() if v},
        }

    def outputs(self, sku: str) -> list[Outgoing]:
        """The backlog's page writes, then the SKU record with the backlog's index."""
        pages = self.backlog.outputs()  # folds small pages first: the index written below is final
        return [*pages, StatePut(SKUS, sku, self.to_json())]

    def available(self, location: str) -> int:
        level = self.levels.get(location)
        if level is None:
            return 0
        on_hand, reserved, safety = (int(level.get(k) or 0) for k in ("oh", "rs", "ss"))
        held = max(self.own.get(location, 0), reserved + self.moved.get(location, 0))
        return max(on_hand - held - safety, 0)

    def hold(self, location: str, units: int) -> None:
        """Count ``units`` more reserved (negative: released) at ``location`` by this stage."""
        self.own[location] = max(self.own.get(location, 0) + units, 0)
        self.moved[location] = self.moved.get(location, 0) + units


@dataclass(frozen=True, slots=True)
class SkuStage:
    replies_topic: str
    reservations_topic: str
    reservations_by_sku_topic: str | None = None  # each reservation also goes here, keyed by SKU

    def level(self, update: LevelUpdate, ctx: Context) -> list[Outgoing]:
        stock = SkuStock.load(update.sku, ctx.state(SKUS))
        known = stock.levels.get(update.location)
        known_revision = None if known is None else known.get("rv")
        if update.revision is not None and known_revision is not None and update.revision <= known_revision:
            return []  # an older or repeated level of this position
        stock.levels[update.location] = {
            "oh": update.on_hand,
            "rs": update.reserved,
            "ss": update.safety_stock,
            "rv": update.revision,
        }
        stock.moved.pop(update.location, None)  # the new level's `reserved` is the new baseline
        out = self._fill(stock, update.sku, update.at_ms or 0, ctx)
        return [*out, *stock.outputs(update.sku)]

    def allocate(self, command: AllocateCommand, ctx: Context) -> list[Outgoing]:
        if ctx.state(REQUESTS).get(command.request_id) is not None:
            return []  # a repeat: its reservations and reply were written with the first one
        stock = SkuStock.load(command.sku, ctx.state(SKUS))
        locations = sorted({loc for line in command.lines for loc in line.locations})
        offer = {(command.sku, loc): stock.available(loc) for loc in locations}
        demands = [Demand(line.line_id, command.sku, line.quantity, line.locations) for line in command.lines]
        plan = allocate(demands, offer, command.policy)
        outgoing: list[Outgoing] = [StatePut(REQUESTS, command.request_id, 1)]
        holds = _Holds(ctx)
        placed: list[Placed] = []
        locations_of = {line.line_id: line.locations for line in command.lines}
        for item in plan.allocations:
            placed.append(Placed(line_id=item.line_id, location=item.location, quantity=item.quantity))
            if item.location is None:
                waiting = Waiting(
                    command.order_id,
                    item.line_id,
                    item.quantity,
                    locations_of[item.line_id],
                    command.placed_at_ms,
                    command.correlation_id,
                )
                stock.backlog.wait(waiting)
                continue
            outgoing += self._reserve(
                stock,
                holds,
                command.sku,
                command.order_id,
                item.line_id,
                item.location,
                item.quantity,
                command.at_ms,
                command.request_id,
                command.correlation_id,
            )
        outgoing += stock.outputs(command.sku)
        reply = AllocatedReply(
            request_id=command.request_id,
            order_id=command.order_id,
            sku=command.sku,
            placed_at_ms=command.placed_at_ms,
            placed=tuple(placed),
        )
        outgoing.append(Emit(self.replies_topic, command.order_id, OrderReply(body=reply)))
        return outgoing

    def release(self, command: ReleaseCommand, ctx: Context) -> list[Outgoing]:
        if ctx.state(REQUESTS).get(command.request_id) is not None:
            return []
        stock = SkuStock.load(command.sku, ctx.state(SKUS))
        outgoing: list[Outgoing] = [StatePut(REQUESTS, command.request_id, 1)]
        holds = _Holds(ctx)
        for item in command.releases:
            left = item.quantity
            # Reservations made before the SKU was part of the id are released under their old id.
            for rid in (
                reservation_id(command.order_id, item.line_id, command.sku, item.location),
                legacy_reservation_id(command.order_id, item.line_id, item.location),
            ):
                hold = holds.get(rid)
                units = min(left, hold["q"] - hold["rl"])
                if units <= 0:
                    continue  # nothing (left) reserved under this id
                left -= units
                at_ms = max(command.at_ms, hold["at"] + 1)
                holds.put(rid, {"q": hold["q"], "rl": hold["rl"] + units, "at": at_ms}, outgoing)
                stock.hold(item.location, -units)
                record = reservation(
                    kind=ReservationKind.RELEASE,
                    reservation_id=rid,
                    sku=command.sku,
                    location=item.location,
                    quantity=units,
                    order_id=command.order_id,
                    line_id=item.line_id,
                    at_ms=at_ms,
                    cause=command.request_id,
                    correlation=command.correlation_id,
                )
                outgoing += self._reservation(record)
        for backorder in command.backorders:
            stock.backlog.give_up(command.order_id, backorder.line_id, backorder.quantity)
        outgoing += self._fill(stock, command.sku, command.at_ms, ctx, holds)
        outgoing += stock.outputs(command.sku)
        return outgoing

    def _reserve(
        self,
        stock: SkuStock,
        holds: _Holds,
        sku: str,
        order_id: str,
        line_id: str,
        location: str,
        units: int,
        at_ms: int,
        cause: str,
        correlation: str,
    ) -> list[Outgoing]:
        """Hold ``units`` more at ``location`` for the line: count them, emit the cumulative RESERVE."""
        stock.hold(location, units)
        rid = reservation_id(order_id, line_id, sku, location)
        hold = holds.get(rid)
        at_ms = max(at_ms, hold["at"] + 1)
        hold = {"q": hold["q"] + units, "rl": hold["rl"], "at": at_ms}
        outgoing: list[Outgoing] = []
        holds.put(rid, hold, outgoing)
        record = reservation(
            kind=ReservationKind.RESERVE,
            reservation_id=rid,
            sku=sku,
            location=location,
            quantity=hold["q"],
            order_id=order_id,
            line_id=line_id,
            at_ms=at_ms,
            cause=cause,
            correlation=correlation,
        )
        outgoing += self._reservation(record)
        return outgoing

    def _reservation(self, record: ReservationEvent) -> list[Outgoing]:
        """``record`` keyed by stock position, and keyed by SKU to the second topic when there is one."""
        out: list[Outgoing] = [Emit(self.reservations_topic, _stock(record), record)]
        if self.reservations_by_sku_topic:
            out.append(Emit(self.reservations_by_sku_topic, record.sku, record))
        return out

    def _fill(
        self, stock: SkuStock, sku: str, at_ms: int, ctx: Context, holds: _Holds | None = None
    ) -> list[Outgoing]:
        """Place waiting backorders on what is available now, first placed first: an earlier line
        takes what it can at its locations before a later line sees any of it."""
        holds = holds or _Holds(ctx)
        outgoing: list[Outgoing] = []

        # Only pages with a line waiting where units are available are read, and the walk ends
        # once no location has any: a fill costs the pages it serves, not the whole backlog.
        def live() -> set[str]:
            return {loc for loc in stock.levels if stock.available(loc) > 0}

        for entry in stock.backlog.candidates(live):
            offer = {(sku, loc): stock.available(loc) for loc in entry.locations}
            plan = allocate([Demand(entry.line_id, sku, entry.units, entry.locations)], offer, Policy.RANKED)
            stock.fills += 1
            request = fill_id(sku, stock.fills)
            at = max(at_ms, entry.placed_at_ms)
            placed: list[Placed] = []
            for item in plan.allocations:
                if item.location is None:
                    continue
                placed.append(Placed(line_id=entry.line_id, location=item.location, quantity=item.quantity))
                outgoing += self._reserve(
                    stock,
                    holds,
                    sku,
                    entry.order_id,
                    entry.line_id,
                    item.location,
                    item.quantity,
                    at,
                    request,
                    entry.correlation_id,
                )
            stock.backlog.give_up(entry.order_id, entry.line_id, sum(p.quantity for p in placed))
            reply = RestockedReply(
                request_id=request,
                order_id=entry.order_id,
                sku=sku,
                placed_at_ms=entry.placed_at_ms,
                at_ms=at,
                placed=tuple(placed),
            )
            outgoing.append(Emit(self.replies_topic, entry.order_id, OrderReply(body=reply)))
        return outgoing

    def quote(self, command: QuoteCommand, ctx: Context) -> list[Outgoing]:
        stock = SkuStock.load(command.sku, ctx.state(SKUS))
        reply = QuotedReply(
            request_id=command.request_id,
            order_id=command.order_id,
            sku=command.sku,
            placed_at_ms=command.placed_at_ms,
            available={loc: stock.available(loc) for loc in command.locations},
        )
        return [Emit(self.replies_topic, command.order_id, OrderReply(body=reply))]


class _Holds:
    """Reservation holds read through this call's own writes (one call may touch a hold twice)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._written: dict[str, dict[str, int]] = {}

    def get(self, rid: uuid.UUID) -> dict[str, int]:
        key = str(rid)
        if key in self._written:
            return self._written[key]
        hold = self._ctx.state(HOLDS).get(key) or {"q": 0, "rl": 0, "at": 0}
        return {k: int(v) for k, v in hold.items()}

    def put(self, rid: uuid.UUID, hold: dict[str, int], outgoing: list[Outgoing]) -> None:
        self._written[str(rid)] = hold
        outgoing.append(StatePut(HOLDS, str(rid), hold))


def _stock(record: ReservationEvent) -> str:
    return _position(record.sku, record.location)


@lru_cache(maxsize=16_384)  # a SKU stage reserves on the same positions over and over
def _position(sku: str, location: str) -> str:
    return str(stock_key(sku, location))
