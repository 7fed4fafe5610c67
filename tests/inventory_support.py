"""Builders and an in-memory driver for the inventory projector's tests (no broker)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from bus.service import Emit, Event, Handler, Outgoing, StateDelete, StatePut
from schemas.common.models import EventMetadata, SourceRef
from schemas.ids import stock_key
from schemas.inventory.models import MovementKind, ReservationEvent, ReservationKind, StockMovementEvent
from services.inventory_projector.fold import Position
from services.inventory_projector.handler import POSITIONS
from services.inventory_projector.settings import ProjectorSettings

__all__ = [
    "Driver",
    "StoreContext",
    "movement",
    "reservation",
    "settings",
]

EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def settings(**overrides: Any) -> ProjectorSettings:
    base: dict[str, Any] = {
        "movements_topic": "mv",
        "reservations_topic": "rs",
        "levels_topic": "levels",
        "channel_topic": "channels",
        "alerts_topic": "alerts",
        "coalesce_interval_ms": 1000,
    }
    base.update(overrides)
    return ProjectorSettings(**base)


def _metadata(at_ms: int, event_id: uuid.UUID | None = None) -> EventMetadata:
    at = datetime.fromtimestamp(at_ms / 1000, UTC)
    return EventMetadata(
        event_id=event_id or uuid.uuid4(),
        event_type="test",
        occurred_at=at,
        ingested_at=at,
        source=SourceRef(system="test", account="a", entity="e", native_id="1"),
        correlation_id="corr",
    )


def movement(
    kind: MovementKind,
    quantity: int,
    at: int = 0,
    *,
    sku: str = "SKU-1",
    location: str = "WH1",
    movement_id: uuid.UUID | None = None,
    sequence: int | None = None,
) -> StockMovementEvent:
    """``at``: milliseconds after a fixed epoch."""
    return StockMovementEvent(
        metadata=_metadata(EPOCH_MS + at),
        movement_id=movement_id or uuid.uuid4(),
        kind=kind,
        sku=sku,
        location=location,
        quantity=quantity,
        source_sequence=sequence,
    )


def reservation(
    kind: ReservationKind,
    quantity: int,
    at: int = 0,
    *,
    reservation_id: uuid.UUID,
    sku: str = "SKU-1",
    location: str = "WH1",
    event_id: uuid.UUID | None = None,
) -> ReservationEvent:
    return ReservationEvent(
        metadata=_metadata(EPOCH_MS + at, event_id),
        reservation_id=reservation_id,
        kind=kind,
        sku=sku,
        location=location,
        quantity=quantity,
    )


class _Store(dict[str, Any]):
    pass


@dataclass
class StoreContext:
    """The handler's ``Context`` over plain dicts."""

    stores: dict[str, _Store]
    service: str = "inventory-projector"

    @property
    def log(self) -> Any:
        return structlog.get_logger()

    def state(self, store: str) -> Any:
        return self.stores.setdefault(store, _Store())


@dataclass
class Driver:
    """Feeds events through a handler like the runtime does (one partition, keyed by SKU)."""

    handler: Handler
    config: ProjectorSettings
    stores: dict[str, _Store] = field(default_factory=dict)
    emitted: list[Emit] = field(default_factory=list)
    offset: int = 0
    clock_ms: int = EPOCH_MS

    def feed(self, values: Iterable[StockMovementEvent | ReservationEvent], key: bytes | None = None) -> None:
        for value in values:
            topic = (
                self.config.movements_topic
                if isinstance(value, StockMovementEvent)
                else self.config.reservations_topic
            )
            record_key = key if key is not None else value.sku.encode()
            self.send(topic, record_key, value)

    def send(self, topic: str, key: bytes | None, value: Any) -> Sequence[Outgoing]:
        self.offset += 1
        event = Event(value, key, topic, 0, self.offset, self.clock_ms, {})
        out = self.handler(event, StoreContext(self.stores))
        for item in out:
            if isinstance(item, StatePut):
                self.stores.setdefault(item.store, _Store())[item.key] = item.value
            elif isinstance(item, StateDelete):
                self.stores.setdefault(item.store, _Store()).pop(item.key, None)
        self.emitted += [item for item in out if isinstance(item, Emit)]
        return out

    def position(self, sku: str = "SKU-1", location: str = "WH1") -> Position:
        return Position.from_json(self.stores.get(POSITIONS, _Store()).get(str(stock_key(sku, location))))

    def on(self, topic: str) -> list[Any]:
        return [item.value for item in self.emitted if item.topic == topic]
