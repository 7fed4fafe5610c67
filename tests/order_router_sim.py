"""The router's real handler under a chosen interleaving of its input streams (no broker, no codecs).

The runtime delivers each input partition in order, but nothing orders one partition against
another: levels of different positions, commands from different order partitions and answers race.
``RouterSim`` keeps one FIFO per stream that Kafka orders (an order's events, a position's levels,
the single by-SKU partition of a SKU, an order's answers) and lets the test pick which stream moves
next. Under exactly-once a crash, rebalance or second instance only re-runs records on the committed
state, which a pure handler turns into the same outputs: any such history is one of these
interleavings. ``rewind`` adds what at-least-once can add on top: records handled again.

A tiny projector model turns stock changes into levels: ``reserved`` folds a prefix of the router's
reservation events (the projector lags), ``revision`` counts published levels per position.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bus.service import Emit, Event, Outgoing, StateDelete, StatePut
from schemas.common.models import EventMetadata, SourceRef
from schemas.ids import stock_key
from schemas.inventory.models import InventoryLevel, ReservationEvent, ReservationKind
from schemas.orders.models import OrderEvent, RoutedOrderEvent
from services.order_router.backorders import Waiting
from services.order_router.handler import make_handler
from services.order_router.lifecycle import OrderState
from services.order_router.messages import LevelUpdate, SkuCommand
from services.order_router.order_stage import ORDERS
from services.order_router.rules import RulesFile
from services.order_router.settings import RouterSettings
from services.order_router.sku_stage import SKUS, SkuStock
from tests.order_router_support import EPOCH, router_settings

__all__ = ["Check", "MemoryContext", "RouterSim", "held"]

Check = Callable[["RouterSim", SkuCommand, dict[str, int], dict[str, int]], None]
"""Called after every by-SKU record: (sim, record, held before, held after) per location."""


class _Log:
    def info(self, *_args: Any, **_kwargs: Any) -> None:
        return None

    warning = error = debug = info


class _View:
    def __init__(self, data: dict[str, str]) -> None:
        self._data = data

    def get(self, key: str, default: Any = None) -> Any:
        raw = self._data.get(key)
        return default if raw is None else json.loads(raw)

    def __contains__(self, key: str) -> bool:
        return key in self._data


@dataclass
class MemoryContext:
    stores: dict[str, dict[str, str]]
    service: str = "order-router"
    log: _Log = field(default_factory=_Log)

    def state(self, store: str) -> _View:
        return _View(self.stores[store])


def held(reservations: Sequence[ReservationEvent], sku: str) -> dict[str, int]:
    """Units held per location of ``sku``, folded as the projector does (newest RESERVE - RELEASEs)."""
    newest: dict[uuid.UUID, tuple[tuple[int, str], int]] = {}
    released: dict[uuid.UUID, int] = defaultdict(int)
    where: dict[uuid.UUID, str] = {}
    for r in reservations:
        if r.sku != sku:
            continue
        where[r.reservation_id] = r.location
        if r.kind is ReservationKind.RESERVE:
            key = (int(r.metadata.occurred_at.timestamp() * 1000), str(r.metadata.event_id))
            if r.reservation_id not in newest or key > newest[r.reservation_id][0]:
                newest[r.reservation_id] = (key, r.quantity)
        else:
            released[r.reservation_id] += r.quantity
    out: dict[str, int] = defaultdict(int)
    for rid, (_, units) in newest.items():
        out[where[rid]] += max(units - released[rid], 0)
    return dict(out)


class RouterSim:
    def __init__(self, rules: RulesFile, sku: str, safety: dict[str, int], check: Check) -> None:
        self.settings: RouterSettings = router_settings()
        self.handler = make_handler(self.settings, rules)
        self.sku = sku
        self.safety = safety
        self.check = check
        self.stores: dict[str, dict[str, str]] = defaultdict(dict)
        self.streams: dict[str, deque[Event[Any]]] = defaultdict(deque)
        self.delivered_by_sku: list[Event[Any]] = []
        self.reservations: list[ReservationEvent] = []
        self.routed: list[RoutedOrderEvent] = []
        # the projector model
        self.on_hand: dict[str, int] = {}
        self.projected = 0  # how many reservation events the projector has folded
        self.revision: dict[str, int] = defaultdict(int)
        self.levels: dict[str, list[InventoryLevel]] = defaultdict(list)
        # what the SKU stage has seen: the newest level per location, by revision
        self.seen: dict[str, LevelUpdate] = {}
        # units the router held per location when that level reached the SKU stage
        self.held_at_seen: dict[str, int] = {}
        self._offset = 0
        self.last_outgoing: list[Outgoing] = []

    # -- inputs ------------------------------------------------------------------------------------
    def _event(self, topic: str, key: str, value: Any) -> Event[Any]:
        self._offset += 1
        return Event(value, key.encode(), topic, 0, self._offset, 0, {})

    def order(self, event: OrderEvent) -> None:
        key = str(event.order.order_id)
        self.streams[f"order:{key}"].append(self._event(self.settings.orders_topic, key, event))

    def stock(self, location: str, *, delta: int | None = None, count: int | None = None) -> None:
        """A movement at ``location`` folded by the projector: a signed delta or an absolute count."""
        before = self.on_hand.get(location, 0)
        self.on_hand[location] = max(before + delta, 0) if delta is not None else max(count or 0, 0)
        self._publish_level(location)

    def project(self, events: int) -> None:
        """The projector folds ``events`` more reservation events and publishes changed levels."""
        before = held(self.reservations[: self.projected], self.sku)
        self.projected = min(self.projected + events, len(self.reservations))
        after = held(self.reservations[: self.projected], self.sku)
        for location in sorted(set(before) | set(after)):
            if before.get(location, 0) != after.get(location, 0) and location in self.on_hand:
                self._publish_level(location)

    def _publish_level(self, location: str) -> None:
        self.revision[location] += 1
        on_hand = self.on_hand[location]
        reserved = held(self.reservations[: self.projected], self.sku).get(location, 0)
        safety = self.safety.get(location, 0)
        level = InventoryLevel(
            metadata=_meta(f"{self.sku}@{location}/{self.revision[location]}"),
            sku=self.sku,
            location=location,
            on_hand=on_hand,
            reserved=reserved,
            available=on_hand - reserved,
            as_of=EPOCH,
            safety_stock=safety,
            available_to_promise=max(on_hand - reserved - safety, 0),
            revision=self.revision[location],
        )
        self.levels[location].append(level)
        self._send_level(level)

    def _send_level(self, level: InventoryLevel) -> None:
        key = str(stock_key(self.sku, level.location))
        self.streams[f"level:{level.location}"].append(self._event(self.settings.levels_topic, key, level))

    def reread_level(self, location: str, back: int) -> None:
        """An old level of a position arrives again, ``back`` levels before the newest (the levels
        consumer re-reading after lost offsets, without the newer ones yet)."""
        if self.levels[location]:
            self._send_level(self.levels[location][max(len(self.levels[location]) - 1 - back, 0)])

    def rewind(self, records: int) -> None:
        """At-least-once: the by-SKU partition is read again from ``records`` records back."""
        again = self.delivered_by_sku[-records:] if records else []
        self.streams["by-sku"].extendleft(reversed(again))

    # -- delivery ----------------------------------------------------------------------------------
    def ready(self) -> list[str]:
        return sorted(name for name, queue in self.streams.items() if queue)

    def step(self, choice: int) -> bool:
        names = self.ready()
        if not names:
            return False
        self.deliver(names[choice % len(names)])
        return True

    def drain(self) -> None:
        while self.step(0):
            pass

    def deliver(self, stream: str) -> None:
        event = self.streams[stream].popleft()
        by_sku = event.topic == self.settings.by_sku_topic
        if by_sku:
            self.delivered_by_sku.append(event)
            body = event.value.body
            before = held(self.reservations, self.sku)
            if body.kind == "level":
                known = self.seen.get(body.location)
                if known is None or (known.revision or 0) < (body.revision or 0):
                    self.seen[body.location] = body
                    self.held_at_seen[body.location] = before.get(body.location, 0)
        outgoing = self.handler(event, MemoryContext(self.stores))
        self.last_outgoing = list(outgoing)
        self._apply(outgoing)
        if by_sku:
            self.check(self, event.value, before, held(self.reservations, self.sku))

    def _apply(self, outgoing: Sequence[Outgoing]) -> None:
        s = self.settings
        for item in outgoing:
            if isinstance(item, StatePut):
                self.stores[item.store][item.key] = json.dumps(item.value)
            elif isinstance(item, StateDelete):
                self.stores[item.store].pop(item.key, None)
            elif isinstance(item, Emit):
                key = item.key.decode() if isinstance(item.key, bytes) else str(item.key)
                if item.topic == s.by_sku_topic:
                    self.streams["by-sku"].append(self._event(item.topic, key, item.value))
                elif item.topic == s.by_order_topic:
                    self.streams[f"reply:{key}"].append(self._event(item.topic, key, item.value))
                elif item.topic == s.reservations_topic:
                    self.reservations.append(item.value)
                elif item.topic == s.routed_topic:
                    self.routed.append(item.value)

    # -- views -------------------------------------------------------------------------------------
    def stock_view(self) -> SkuStock:
        """The SKU stage's stored view of the SKU (its backlog reads the stored pages)."""
        return SkuStock.load(self.sku, _View(self.stores[SKUS]))

    def backlog(self) -> list[Waiting]:
        """Every line waiting in the SKU stage's stored backlog, in fill order."""
        return self.stock_view().backlog.entries()

    def own(self) -> dict[str, int]:
        """The SKU stage's own outstanding units per location."""
        return {k: v for k, v in self.stock_view().own.items() if v}

    def backordered(self) -> dict[tuple[str, str], int]:
        """Backordered units per (order id, line id) as the order stage holds them."""
        out: dict[tuple[str, str], int] = {}
        for order_id, raw in self.stores[ORDERS].items():
            for line_id, line in OrderState.from_json(json.loads(raw)).lines.items():
                if line.backordered:
                    out[(order_id, line_id)] = line.backordered
        return out

    def latest(self) -> dict[str, RoutedOrderEvent]:
        out: dict[str, RoutedOrderEvent] = {}
        for routed in self.routed:
            known = out.get(str(routed.order_id))
            if known is None or routed.revision > known.revision:
                out[str(routed.order_id)] = routed
        return out


def _meta(native: str) -> EventMetadata:
    return EventMetadata(
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, native),
        event_type="inventory.level",
        occurred_at=EPOCH,
        ingested_at=EPOCH,
        source=SourceRef(system="esb", account="projector", entity="level", native_id=native),
    )
