"""The SKU stage: one partition owns every location's stock of a SKU and allocates it, one command at
a time, so two orders can never be promised the same unit.

Units the router may promise at a location::

    available = max(on_hand - max(level.reserved, own_outstanding) - safety_stock, 0)

``on_hand``, ``level.reserved`` and ``safety_stock`` come from the projector's latest level;
``own_outstanding`` is what this stage itself has reserved and not released, counted the moment it
reserves. The projector's ``reserved`` lags the router's own reservations (it folds them later) and
may lag its releases; the larger of the two is never below what is truly held, so the router never
promises a unit twice while the projector catches up (the router is the only writer of reservations).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bus.service import Context, Emit, Outgoing, StatePut
from schemas.ids import stock_key
from schemas.inventory.models import ReservationEvent, ReservationKind
from services.order_router.allocation import Demand, allocate
from services.order_router.ids import reservation_id
from services.order_router.messages import (
    AllocateCommand,
    AllocatedReply,
    LevelUpdate,
    OrderReply,
    Placed,
    QuoteCommand,
    QuotedReply,
    ReleaseCommand,
)
from services.order_router.records import reservation

__all__ = ["HOLDS", "REQUESTS", "SKUS", "SkuStage", "SkuStock"]

SKUS = "skus"
HOLDS = "holds"
REQUESTS = "requests"


@dataclass(slots=True)
class SkuStock:
    """The stage's view of one SKU: latest level per location and its own outstanding reservations."""

    levels: dict[str, dict[str, int | None]]
    own: dict[str, int]

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> SkuStock:
        if data is None:
            return cls({}, {})
        return cls({k: dict(v) for k, v in data["lv"].items()}, dict(data["own"]))

    def to_json(self) -> dict[str, Any]:
        return {"lv": self.levels, "own": self.own}

    def available(self, location: str) -> int:
        level = self.levels.get(location)
        if level is None:
            return 0
        on_hand, reserved, safety = (int(level.get(k) or 0) for k in ("oh", "rs", "ss"))
        return max(on_hand - max(reserved, self.own.get(location, 0)) - safety, 0)


@dataclass(frozen=True, slots=True)
class SkuStage:
    replies_topic: str
    reservations_topic: str

    def level(self, update: LevelUpdate, ctx: Context) -> list[Outgoing]:
        stock = SkuStock.from_json(ctx.state(SKUS).get(update.sku))
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
        return [StatePut(SKUS, update.sku, stock.to_json())]

    def allocate(self, command: AllocateCommand, ctx: Context) -> list[Outgoing]:
        if ctx.state(REQUESTS).get(command.request_id) is not None:
            return []  # a repeat: its reservations and reply were written with the first one
        stock = SkuStock.from_json(ctx.state(SKUS).get(command.sku))
        locations = sorted({loc for line in command.lines for loc in line.locations})
        offer = {(command.sku, loc): stock.available(loc) for loc in locations}
        demands = [Demand(line.line_id, command.sku, line.quantity, line.locations) for line in command.lines]
        plan = allocate(demands, offer, command.policy)
        outgoing: list[Outgoing] = [StatePut(REQUESTS, command.request_id, 1)]
        placed: list[Placed] = []
        for item in plan.allocations:
            placed.append(Placed(line_id=item.line_id, location=item.location, quantity=item.quantity))
            if item.location is None:
                continue
            stock.own[item.location] = stock.own.get(item.location, 0) + item.quantity
            rid = reservation_id(command.order_id, item.line_id, item.location)
            hold = ctx.state(HOLDS).get(str(rid)) or {"q": 0, "rl": 0, "at": 0}
            at_ms = max(command.at_ms, int(hold["at"]) + 1)
            hold = {"q": int(hold["q"]) + item.quantity, "rl": hold["rl"], "at": at_ms}
            outgoing.append(StatePut(HOLDS, str(rid), hold))
            record = reservation(
                kind=ReservationKind.RESERVE,
                reservation_id=rid,
                sku=command.sku,
                location=item.location,
                quantity=hold["q"],
                order_id=command.order_id,
                line_id=item.line_id,
                at_ms=at_ms,
                cause=command.request_id,
                correlation=command.correlation_id,
            )
            outgoing.append(Emit(self.reservations_topic, _stock(record), record))
        outgoing.append(StatePut(SKUS, command.sku, stock.to_json()))
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
        stock = SkuStock.from_json(ctx.state(SKUS).get(command.sku))
        outgoing: list[Outgoing] = [StatePut(REQUESTS, command.request_id, 1)]
        for item in command.releases:
            rid = reservation_id(command.order_id, item.line_id, item.location)
            hold = ctx.state(HOLDS).get(str(rid))
            if hold is None:
                continue  # nothing was ever reserved there
            units = min(item.quantity, int(hold["q"]) - int(hold["rl"]))
            if units <= 0:
                continue
            at_ms = max(command.at_ms, int(hold["at"]) + 1)
            outgoing.append(
                StatePut(HOLDS, str(rid), {"q": hold["q"], "rl": int(hold["rl"]) + units, "at": at_ms})
            )
            stock.own[item.location] = max(stock.own.get(item.location, 0) - units, 0)
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
            outgoing.append(Emit(self.reservations_topic, _stock(record), record))
        outgoing.append(StatePut(SKUS, command.sku, stock.to_json()))
        return outgoing

    def quote(self, command: QuoteCommand, ctx: Context) -> list[Outgoing]:
        stock = SkuStock.from_json(ctx.state(SKUS).get(command.sku))
        reply = QuotedReply(
            request_id=command.request_id,
            order_id=command.order_id,
            sku=command.sku,
            placed_at_ms=command.placed_at_ms,
            available={loc: stock.available(loc) for loc in command.locations},
        )
        return [Emit(self.replies_topic, command.order_id, OrderReply(body=reply))]


def _stock(record: ReservationEvent) -> str:
    return str(stock_key(record.sku, record.location))
