"""The projector builds its levels, alerts and channel values without pydantic validation: the records must
be exactly what the validating constructors give (equal models, same fields set, same Avro bytes)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bus.config import SchemaRegistrySettings
from bus.serde import AvroCodec, BoundCodec, registry_client
from schemas.common.models import EventMetadata, SourceRef
from schemas.ids import canonical_id
from schemas.inventory.models import ChannelAvailability, InventoryAlert, InventoryAlertKind, InventoryLevel
from schemas.loader import schema_text
from services.inventory_projector.fold import AlertKind, AlertSpec, Level
from services.inventory_projector.records import Cause, alert_record, channel_record, level_record, utc

pytestmark = pytest.mark.unit

_MS = st.integers(min_value=0, max_value=4_102_444_800_000)  # 1970 .. 2100
_TEXT = st.text(min_size=1, max_size=12)
_INT = st.integers(min_value=-(10**9), max_value=10**9)


def _codec(model: Any) -> BoundCodec:
    registry = registry_client(SchemaRegistrySettings(url=f"mock://{uuid.uuid4().hex}"))
    return AvroCodec(model, schema_text(model.avro_name())).bind(registry, auto_register=True)


_LEVELS = _codec(InventoryLevel)
_CHANNELS = _codec(ChannelAvailability)
_ALERTS = _codec(InventoryAlert)


def _reference_metadata(
    service: str, entity: str, subject: str, native_id: str, event_type: str, at: datetime, cause: Cause
) -> EventMetadata:
    """The records as the projector built them before the fast path: validated, ``uuid.uuid5``."""
    return EventMetadata(
        event_id=uuid.uuid5(canonical_id("esb", service, entity, "*"), native_id),
        event_type=event_type,
        occurred_at=at,
        ingested_at=cause.ingested_at,
        source=SourceRef(system="esb", account=service, entity=entity, native_id=subject),
        correlation_id=cause.correlation_id,
        causation_id=cause.event_id,
    )


def _same(built: Any, reference: Any, codec: BoundCodec, topic: str) -> None:
    assert type(built) is type(reference)
    assert built == reference
    assert built.model_fields_set == reference.model_fields_set
    assert built.metadata.model_fields_set == reference.metadata.model_fields_set
    assert built.model_dump() == reference.model_dump()
    assert codec.encode(built, topic) == codec.encode(reference, topic)


_CAUSES = st.builds(
    Cause,
    event_id=st.uuids().map(str),
    correlation_id=st.none() | _TEXT,
    ingested_at=st.one_of(
        _MS.map(utc),
        # not UTC, or finer than milliseconds: the validating constructor converts them
        st.builds(
            lambda ms, us, hours: (utc(ms) + timedelta(microseconds=us)).astimezone(
                timezone(timedelta(hours=hours))
            ),
            _MS,
            st.integers(0, 999),
            st.integers(-12, 12),
        ),
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    key=_TEXT,
    sku=_TEXT,
    location=_TEXT,
    on_hand=_INT,
    reserved=_INT,
    safety=st.integers(0, 1000),
    as_of_ms=_MS,
    revision=st.integers(1, 10**9),
    cause=_CAUSES,
)
def test_a_level_is_the_validated_model(
    key: str,
    sku: str,
    location: str,
    on_hand: int,
    reserved: int,
    safety: int,
    as_of_ms: int,
    revision: int,
    cause: Cause,
) -> None:
    level = Level(on_hand, reserved, safety, as_of_ms)
    as_of = utc(as_of_ms)
    reference = InventoryLevel(
        metadata=_reference_metadata(
            "svc", "inventory-level", key, f"{key}:{revision}", "inventory.level.changed", as_of, cause
        ),
        sku=sku,
        location=location,
        on_hand=on_hand,
        reserved=reserved,
        available=level.available,
        as_of=as_of,
        safety_stock=safety,
        available_to_promise=level.available_to_promise,
        revision=revision,
    )
    built = level_record("svc", key, sku, location, level, revision, cause)
    _same(built, reference, _LEVELS, "levels")


@settings(max_examples=200, deadline=None)
@given(
    sku=_TEXT,
    channel=_TEXT,
    available=st.integers(0, 10**9),
    buffer=st.integers(0, 1000),
    locations=st.lists(_TEXT, min_size=1, max_size=4).map(tuple),
    native_id=_TEXT,
    as_of_ms=_MS,
    cause=_CAUSES,
)
def test_a_channel_value_is_the_validated_model(
    sku: str,
    channel: str,
    available: int,
    buffer: int,
    locations: tuple[str, ...],
    native_id: str,
    as_of_ms: int,
    cause: Cause,
) -> None:
    as_of = utc(as_of_ms)
    reference = ChannelAvailability(
        metadata=_reference_metadata(
            "svc",
            "channel-availability",
            f"{channel}:{sku}",
            native_id,
            "inventory.channel-availability.changed",
            as_of,
            cause,
        ),
        sku=sku,
        channel=channel,
        available=available,
        buffer=buffer,
        locations=list(locations),
        as_of=as_of,
    )
    built = channel_record("svc", sku, channel, available, buffer, locations, native_id, as_of_ms, cause)
    _same(built, reference, _CHANNELS, "channels")


_OPTIONAL_INT = st.none() | _INT


@settings(max_examples=200, deadline=None)
@given(
    sku=_TEXT,
    location=_TEXT,
    on_hand=_INT,
    reserved=_INT,
    safety=st.integers(0, 1000),
    as_of_ms=_MS,
    alert=st.builds(
        AlertSpec,
        kind=st.sampled_from(AlertKind),
        shortfall=_OPTIONAL_INT,
        counted=_OPTIONAL_INT,
        expected=_OPTIONAL_INT,
        drift=_OPTIONAL_INT,
        threshold=_OPTIONAL_INT,
    ),
    cause=_CAUSES,
)
def test_an_alert_is_the_validated_model(
    sku: str,
    location: str,
    on_hand: int,
    reserved: int,
    safety: int,
    as_of_ms: int,
    alert: AlertSpec,
    cause: Cause,
) -> None:
    level = Level(on_hand, reserved, safety, as_of_ms)
    reference = InventoryAlert(
        metadata=_reference_metadata(
            "svc",
            "inventory-alert",
            f"{sku}@{location}",
            f"{alert.kind}:{cause.event_id}:{sku}@{location}",
            f"inventory.alert.{alert.kind.lower()}",
            utc(as_of_ms),
            cause,
        ),
        kind=InventoryAlertKind(alert.kind.value),
        sku=sku,
        location=location,
        on_hand=on_hand,
        reserved=reserved,
        safety_stock=safety,
        shortfall=alert.shortfall,
        counted=alert.counted,
        expected=alert.expected,
        drift=alert.drift,
        threshold=alert.threshold,
        cause_id=cause.event_id,
    )
    built = alert_record("svc", sku, location, level, alert, cause)
    _same(built, reference, _ALERTS, "alerts")


def test_an_instant_off_the_millisecond_takes_the_validating_path() -> None:
    cause = Cause("e", None, datetime(2026, 1, 1, 12, 0, 0, 123_456, tzinfo=UTC))
    built = level_record("svc", "k", "S", "L", Level(1, 0, 0, 0), 1, cause)
    assert built.metadata.ingested_at.microsecond == 123_000  # truncated as UtcDatetime does
