"""Records the projector writes: canonical levels, alerts and channel availability.

Levels, alerts and channel values (one per published change) are built without pydantic
validation (``schemas.base.trusted``): every field is already of its type (ints and strings of validated
records, UUIDs made here, UTC instants at millisecond precision, checked per record); validating
them again (and ``uuid.uuid5``'s checks) took about a fifth of the handler's time. An
instant that is not UTC at millisecond precision takes the validating constructor instead.
``tests/unit/test_inventory_records.py`` checks that both paths give equal models and equal Avro
bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel

from schemas.base import trusted
from schemas.common.models import EventMetadata, SourceRef
from schemas.ids import canonical_id, uuid5
from schemas.inventory.models import (
    ChannelAvailability,
    InventoryAlert,
    InventoryAlertKind,
    InventoryLevel,
)
from services.inventory_projector.fold import AlertSpec, Level

__all__ = ["Cause", "alert_record", "channel_record", "level_record", "utc"]


class Cause(NamedTuple):
    """What the outputs of one input record inherit from it (``ingested_at``: UTC, milliseconds).

    A named tuple: built once per input record, a frozen dataclass cost twice as much."""

    event_id: str
    correlation_id: str | None
    ingested_at: datetime


def utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


@lru_cache(maxsize=64)
def _namespace(service: str, entity: str) -> bytes:
    return canonical_id("esb", service, entity, "*").bytes


@lru_cache(maxsize=65_536)
def _source(service: str, entity: str, native_id: str) -> SourceRef:
    return SourceRef(system="esb", account=service, entity=entity, native_id=native_id)


def _is_utc_millis(value: datetime) -> bool:
    """True when ``UtcDatetime`` validation would return ``value`` unchanged (an equal instant)."""
    return value.tzinfo is UTC and value.microsecond % 1000 == 0


R = TypeVar("R", bound=BaseModel)
# What a validating caller of EventMetadata here passes: everything but the provider's event id.
_METADATA_GIVEN = frozenset(EventMetadata.model_fields) - {"provider_event_id"}


def _record(model: type[R], values: dict[str, Any], checked: bool) -> R:
    """``values`` (every field, in field order) as ``model``: trusted when ``checked``, else validated."""
    return trusted(model, values, values.keys()) if checked else model.model_validate(values)


def _metadata(
    service: str,
    entity: str,
    subject: str,
    native_id: str,
    event_type: str,
    occurred_at: datetime,
    cause: Cause,
    *,
    validate: bool = True,
) -> EventMetadata:
    """``subject``: the entity the record is about; ``native_id``: this record of it (deterministic)."""
    event_id = uuid5(native_id, _namespace(service, entity))
    source = _source(service, entity, subject)
    if validate:
        return EventMetadata(
            event_id=event_id,
            event_type=event_type,
            occurred_at=occurred_at,
            ingested_at=cause.ingested_at,
            source=source,
            correlation_id=cause.correlation_id,
            causation_id=cause.event_id,
        )
    values: dict[str, Any] = {
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": occurred_at,
        "ingested_at": cause.ingested_at,
        "source": source,
        "provider_event_id": None,
        "correlation_id": cause.correlation_id,
        "causation_id": cause.event_id,
    }
    return trusted(EventMetadata, values, _METADATA_GIVEN)


def _headed(
    service: str, entity: str, subject: str, native_id: str, event_type: str, as_of: datetime, cause: Cause
) -> tuple[EventMetadata, bool]:
    """A record's metadata, and whether its instants let the record be built trusted."""
    checked = _is_utc_millis(as_of) and _is_utc_millis(cause.ingested_at)
    metadata = _metadata(service, entity, subject, native_id, event_type, as_of, cause, validate=not checked)
    return metadata, checked


def level_record(
    service: str, key: str, sku: str, location: str, level: Level, revision: int, cause: Cause
) -> InventoryLevel:
    """The level's event id is a function of (position, revision): a replay writes the same id."""
    as_of = utc(level.as_of_ms)
    metadata, checked = _headed(
        service, "inventory-level", key, f"{key}:{revision}", "inventory.level.changed", as_of, cause
    )
    values: dict[str, Any] = {
        "metadata": metadata,
        "sku": sku,
        "location": location,
        "on_hand": level.on_hand,
        "reserved": level.reserved,
        "available": level.available,
        "as_of": as_of,
        "safety_stock": level.safety_stock,
        "available_to_promise": level.available_to_promise,
        "revision": revision,
    }
    return _record(InventoryLevel, values, checked)


def alert_record(
    service: str, sku: str, location: str, level: Level, alert: AlertSpec, cause: Cause
) -> InventoryAlert:
    native_id = f"{alert.kind}:{cause.event_id}:{sku}@{location}"
    as_of = utc(level.as_of_ms)
    event_type = f"inventory.alert.{alert.kind.lower()}"
    metadata, checked = _headed(
        service, "inventory-alert", f"{sku}@{location}", native_id, event_type, as_of, cause
    )
    values: dict[str, Any] = {
        "metadata": metadata,
        "kind": InventoryAlertKind(alert.kind.value),
        "sku": sku,
        "location": location,
        "on_hand": level.on_hand,
        "reserved": level.reserved,
        "safety_stock": level.safety_stock,
        "shortfall": alert.shortfall,
        "counted": alert.counted,
        "expected": alert.expected,
        "drift": alert.drift,
        "threshold": alert.threshold,
        "cause_id": cause.event_id,
    }
    return _record(InventoryAlert, values, checked)


def channel_record(
    service: str,
    sku: str,
    channel: str,
    available: int,
    buffer: int,
    locations: tuple[str, ...],
    native_id: str,
    as_of_ms: int,
    cause: Cause,
) -> ChannelAvailability:
    as_of = utc(as_of_ms)
    event_type = "inventory.channel-availability.changed"
    metadata, checked = _headed(
        service, "channel-availability", f"{channel}:{sku}", native_id, event_type, as_of, cause
    )
    values: dict[str, Any] = {
        "metadata": metadata,
        "sku": sku,
        "channel": channel,
        "available": available,
        "buffer": buffer,
        "locations": list(locations),
        "as_of": as_of,
    }
    return _record(ChannelAvailability, values, checked)
