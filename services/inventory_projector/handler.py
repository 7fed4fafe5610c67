"""The projector as a runtime service: a pure handler over two inputs and four stores.

Both inputs (``canonical.stock-movements.v2``, ``canonical.reservations.v2``) are keyed by SKU, so
every location of a SKU meets in one partition and one handler call does all of it: fold the event
into the position (:mod:`.fold`), publish the level when it changed, raise alerts, then keep every
location's level of the SKU together, sum the ATP of each channel's locations, subtract the channel
buffer and publish, coalesced (:mod:`.coalesce`). The SKU store also answers the ATP queries the
runtime serves (:mod:`.queries`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import lru_cache
from typing import Any

from msgspec.structs import replace

from bus.errors import DeadLetterError
from bus.serde import AvroCodec
from bus.service import Context, Emit, Event, Handler, Input, Outgoing, Output, Service, StatePut, StoreSpec
from schemas.base import epoch_millis
from schemas.ids import channel_stock_key, stock_key
from schemas.inventory.models import (
    ChannelAvailability,
    InventoryAlert,
    InventoryLevel,
    MovementKind,
    ReservationEvent,
    ReservationKind,
    StockMovementEvent,
)
from schemas.loader import schema_text
from services.inventory_projector import coalesce
from services.inventory_projector.fold import (
    AlertKind,
    AlertSpec,
    Count,
    Delta,
    FoldLimits,
    Level,
    Position,
    Reservation,
    ReservationChange,
    ReservationOp,
    apply_count,
    apply_delta,
    apply_reservation,
    level_of,
)
from services.inventory_projector.inputs import movement_codec, reservation_codec
from services.inventory_projector.queries import atp_queries
from services.inventory_projector.records import Cause, alert_record, channel_record, level_record
from services.inventory_projector.settings import ProjectorSettings

__all__ = ["MOVEMENT_IDS", "POSITIONS", "RESERVATIONS", "SKUS", "build_service", "make_handler"]

POSITIONS = "positions"
MOVEMENT_IDS = "movement-ids"
RESERVATIONS = "reservations"
SKUS = "skus"

# The sign a delta of each kind must have (translators write signed deltas).
_INBOUND = frozenset({MovementKind.RECEIPT, MovementKind.TRANSFER_IN, MovementKind.RETURN_RESTOCK})
_OUTBOUND = frozenset({MovementKind.SHIPMENT, MovementKind.TRANSFER_OUT})
_OPS = {
    ReservationKind.RESERVE: ReservationOp.RESERVE,
    ReservationKind.RELEASE: ReservationOp.RELEASE,
    ReservationKind.COMMIT: ReservationOp.COMMIT,
}


@lru_cache(maxsize=65_536)
def _position_key(sku: str, location: str) -> str:
    return str(stock_key(sku, location))


@lru_cache(maxsize=65_536)
def _channel_key(sku: str, channel: str) -> str:
    return str(channel_stock_key(sku, channel))


def _ms(value: Any) -> int:
    return epoch_millis(value)


def _check_key(event: Event[Any], sku: str) -> None:
    if event.key != sku.encode():
        raise DeadLetterError("record key is not the SKU of its value")


class _EventIds:
    """The service's event-id accessor, remembering the text of the last id it gave.

    The runtime asks for a record's event id just before calling the handler, which builds the
    record's ``Cause`` from the same ``UUID``: the handler takes the text from here instead of
    formatting the UUID again (identity, not equality: the same object, so the same text).
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: tuple[Any, str] = (None, "")

    def __call__(self, value: Any) -> str | None:
        return self.text(value.metadata.event_id)

    def text(self, event_id: Any) -> str:
        last = self._last
        if last[0] is event_id:
            return last[1]
        text = str(event_id)
        self._last = (event_id, text)
        return text


class _Projector:
    def __init__(self, settings: ProjectorSettings, event_ids: _EventIds) -> None:
        self.s = settings
        self.event_ids = event_ids
        self.limits = FoldLimits(
            reorder_window_ms=settings.reorder_window_ms,
            reorder_max_buckets=settings.reorder_max_buckets,
            drift_threshold=settings.drift_threshold,
        )
        self.channels = sorted(settings.channels.items())
        self._safety: dict[str, int] = {}  # per position key: the settings are frozen
        self.channels_of: dict[str, frozenset[str]] = {}
        for name, channel in self.channels:
            for location in channel.locations:
                self.channels_of[location] = self.channels_of.get(location, frozenset()) | {name}

    def movement(self, event: Event[StockMovementEvent], ctx: Context) -> list[Outgoing]:
        m = event.value
        _check_key(event, m.sku)
        key = _position_key(m.sku, m.location)
        if m.unit_of_measure != "EA":
            raise DeadLetterError(f"unit of measure {m.unit_of_measure!r}: the projector counts eaches")
        at = _ms(m.metadata.occurred_at)
        movement_id = str(m.movement_id)
        before = Position.from_json(ctx.state(POSITIONS).get(key))
        outgoing: list[Outgoing] = []
        alerts: list[AlertSpec] = []
        if m.kind is MovementKind.ABSOLUTE_COUNT:
            if m.quantity < 0:
                raise DeadLetterError(f"negative absolute count {m.quantity}")
            count = Count(movement_id, at, -1 if m.source_sequence is None else m.source_sequence, m.quantity)
            after, alerts = apply_count(before, count, self.limits)
        else:
            _check_sign(m.kind, m.quantity)
            if movement_id in ctx.state(MOVEMENT_IDS):
                return []  # rule 1: a repeat (a membership test: no JSON decoding)
            after = apply_delta(before, Delta(movement_id, at, m.quantity), self.limits)
            outgoing.append(StatePut(MOVEMENT_IDS, movement_id, 1))
        cause = Cause(
            event_id=self.event_ids.text(m.metadata.event_id),
            correlation_id=m.metadata.correlation_id,
            ingested_at=m.metadata.ingested_at,
        )
        return outgoing + self._publish(event, ctx, key, m.sku, m.location, before, after, alerts, cause)

    def reservation(self, event: Event[ReservationEvent], ctx: Context) -> list[Outgoing]:
        r = event.value
        _check_key(event, r.sku)
        key = _position_key(r.sku, r.location)
        op = _OPS.get(r.kind)
        if op is None:
            raise DeadLetterError(f"unknown reservation kind {r.kind}")
        if r.quantity <= 0:
            raise DeadLetterError(f"reservation quantity must be positive, got {r.quantity}")
        reservation_id = str(r.reservation_id)
        at = _ms(r.metadata.occurred_at)
        held = Reservation.from_json(ctx.state(RESERVATIONS).get(reservation_id))
        event_id = self.event_ids.text(r.metadata.event_id)
        change = ReservationChange(event_id, op, r.quantity, at)
        updated = apply_reservation(held, change)
        if updated is None:
            return []
        before = Position.from_json(ctx.state(POSITIONS).get(key))
        after = replace(
            before,
            reserved=before.reserved - held.outstanding + updated.outstanding,
            as_of_ms=max(before.as_of_ms, at),
        )
        cause = Cause(
            event_id=event_id,
            correlation_id=r.metadata.correlation_id,
            ingested_at=r.metadata.ingested_at,
        )
        outgoing: list[Outgoing] = [StatePut(RESERVATIONS, reservation_id, updated.to_json())]
        return outgoing + self._publish(event, ctx, key, r.sku, r.location, before, after, [], cause)

    def _publish(
        self,
        event: Event[Any],
        ctx: Context,
        key: str,
        sku: str,
        location: str,
        before: Position,
        after: Position,
        alerts: list[AlertSpec],
        cause: Cause,
    ) -> list[Outgoing]:
        safety = self._safety.get(key)
        if safety is None:
            if len(self._safety) >= 65_536:
                self._safety.clear()
            safety = self._safety[key] = self.s.safety_stock_for(sku, location)
        new = level_of(after, safety)
        if new.promisable < 0 and new.promisable < before.on_hand - before.reserved - safety:
            alerts = [*alerts, AlertSpec(AlertKind.OVERSELL, shortfall=-new.promisable)]
        changed = before.on_hand != after.on_hand or before.reserved != after.reserved or before.revision == 0
        revision = before.revision + 1 if changed else after.revision
        outgoing: list[Outgoing] = []
        if changed:  # stored with the new revision, without another copy of the position for it
            outgoing.append(StatePut(POSITIONS, key, after.to_json(revision)))
        elif after != before:
            outgoing.append(StatePut(POSITIONS, key, after.to_json()))
        for alert in alerts:
            record = alert_record(self.s.service_name, sku, location, new, alert, cause)
            outgoing.append(Emit(self.s.alerts_topic, key, record))
        if not changed:
            return outgoing
        level = level_record(self.s.service_name, key, sku, location, new, revision, cause)
        outgoing.append(Emit(self.s.levels_topic, key, level))
        return outgoing + self._channels(event, ctx, sku, location, new, revision, level, cause)

    def _channels(
        self,
        event: Event[Any],
        ctx: Context,
        sku: str,
        location: str,
        new: Level,
        revision: int,
        level: InventoryLevel,
        cause: Cause,
    ) -> list[Outgoing]:
        """The SKU's entry with the new level of ``location``, and the channel values it changes."""
        entry: dict[str, Any] = ctx.state(SKUS).get(sku) or {"l": {}, "c": {}}
        # "p": the store partition holding the SKU (the input partition: the inputs are keyed by
        # SKU), which the ATP queries report they reflect.
        entry = {"l": dict(entry["l"]), "c": dict(entry["c"]), "p": event.partition}
        entry["l"][location] = {
            "oh": new.on_hand,
            "rs": new.reserved,
            "ss": new.safety_stock,
            "atp": new.available_to_promise,
            "rv": revision,
            "ao": new.as_of_ms,
            "src": [event.topic, event.partition, event.offset],
        }
        now = event.timestamp_ms if event.timestamp_ms > 0 else new.as_of_ms
        outgoing: list[Outgoing] = []
        affected = self.channels_of.get(location, frozenset())
        channel_cause: Cause | None = None
        for name, config in self.channels:
            slot = coalesce.Slot.from_json(entry["c"].get(name))
            if name in affected:
                total = sum(entry["l"][loc]["atp"] for loc in config.locations if loc in entry["l"])
                slot, emit = coalesce.offer(
                    slot, max(total - config.buffer, 0), now, self.s.coalesce_interval_ms
                )
            elif slot is not None:
                slot, emit = coalesce.flush(slot, now, self.s.coalesce_interval_ms)
            else:
                continue
            entry["c"][name] = slot.to_json()
            if emit is not None:
                if channel_cause is None:  # a channel value is caused by the level it follows
                    channel_cause = cause._replace(event_id=str(level.metadata.event_id))
                record = channel_record(
                    self.s.service_name,
                    sku,
                    name,
                    emit,
                    config.buffer,
                    config.locations,
                    f"{name}:{sku}:{location}:{revision}",
                    new.as_of_ms,
                    channel_cause,
                )
                outgoing.append(Emit(self.s.channel_topic, _channel_key(sku, name), record))
        outgoing.append(StatePut(SKUS, sku, entry))
        return outgoing


def _check_sign(kind: MovementKind, quantity: int) -> None:
    if kind is MovementKind.UNKNOWN:
        raise DeadLetterError("unknown movement kind")
    if kind in _INBOUND and quantity < 0:
        raise DeadLetterError(f"{kind} must not be negative, got {quantity}")
    if kind in _OUTBOUND and quantity > 0:
        raise DeadLetterError(f"{kind} is a signed delta and must not be positive, got {quantity}")


def make_handler(settings: ProjectorSettings, event_ids: _EventIds | None = None) -> Handler:
    """``event_ids``: the service's event-id accessor, when the handler runs in the service."""
    projector = _Projector(settings, event_ids or _EventIds())

    def handle(event: Event[Any], ctx: Context) -> Sequence[Outgoing]:
        if event.topic == settings.movements_topic:
            return projector.movement(event, ctx)
        if event.topic == settings.reservations_topic:
            return projector.reservation(event, ctx)
        raise DeadLetterError(f"no route for topic {event.topic}")

    return handle


def _avro(model: Any) -> AvroCodec:
    return AvroCodec(model, schema_text(model.avro_name()))


def _occurred_at(value: Any) -> Any:
    return value.metadata.occurred_at


def build_service(settings: ProjectorSettings) -> Service:
    day = timedelta(days=1)
    event_ids = _EventIds()
    return Service(
        name=settings.service_name,
        inputs=[
            Input(settings.movements_topic, movement_codec()),
            Input(settings.reservations_topic, reservation_codec()),
        ],
        outputs=[
            Output(settings.levels_topic, _avro(InventoryLevel)),
            Output(settings.channel_topic, _avro(ChannelAvailability)),
            Output(settings.alerts_topic, _avro(InventoryAlert)),
        ],
        stores=[
            StoreSpec(POSITIONS),
            StoreSpec(MOVEMENT_IDS, ttl=settings.dedupe_ttl_days * day),
            StoreSpec(RESERVATIONS, ttl=settings.reservation_ttl_days * day),
            StoreSpec(SKUS),
        ],
        handler=make_handler(settings, event_ids),
        queries=atp_queries(SKUS),
        event_id=event_ids,
        occurred_at=_occurred_at,
    )
