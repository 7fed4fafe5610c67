"""The translator's handler: one ingress record in, its canonical events out, re-deliveries dropped.

Dedupe: the provider's event id (``esb-event-id``) is remembered in a TTL store. The gateway keys
records by account and native id, so every re-delivery of one event lands on the partition whose
store already holds its id. A record without an event id is translated every time; its events
still carry deterministic event ids, which downstream consumers deduplicate on.

Fast paths: a (system, entity) may also have a compiled fast path (``esb_native``) that writes the
canonical events' Avro bodies itself, byte for byte what the adapter's events encode to, or
declines, and then the adapter translates the record. With ``verify`` the adapter translates every
record too and a difference is logged as an error and resolved in the adapter's favour (a shadow
check for rolling out a new extension build on live traffic).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bus.serde import AvroBody
from bus.service import Context, Emit, Event, Handler, Outgoing, StatePut
from schemas.base import AvroRecord
from services.translator.errors import TranslationError
from services.translator.fast_paths import FastTranslate, reference_body
from services.translator.ingress import IngressRecord
from services.translator.locations import relocatable, relocate
from services.translator.registry import Translate, adapter_for
from services.translator.routing import DESTINATIONS, destination_of, destinations_of

__all__ = ["SEEN_STORE", "make_handler"]

SEEN_STORE = "seen-events"

Encoded = list[tuple[str, AvroBody]]


def make_handler(
    routes: Mapping[tuple[str, str], Translate],
    topic_prefix: str = "",
    locations: Mapping[str, str] | None = None,
    fast_routes: Mapping[tuple[str, str], FastTranslate] | None = None,
    verify_fast: bool = False,
) -> Handler:
    crosswalk = dict(locations or {})
    fast = dict(fast_routes or {})

    def handle(event: Event[bytes], ctx: Context) -> Sequence[Outgoing]:
        record = IngressRecord.from_kafka(event.value, event.headers, event.topic.removeprefix(topic_prefix))
        dedupe_key = f"{record.system}/{record.account}/{record.provider_event_id}"
        if record.provider_event_id and dedupe_key in ctx.state(SEEN_STORE):
            ctx.log.info("duplicate delivery dropped", provider_event_id=record.provider_event_id)
            return []
        translate = adapter_for(record.system, record.entity, routes)
        fast_path = fast.get((record.system, record.entity))
        encoded = fast_path(record) if fast_path is not None else None
        if encoded is not None and crosswalk and any(relocatable(body.model) for _, body in encoded):
            encoded = None
        if encoded is not None and any(len(DESTINATIONS[body.model]) > 1 for _, body in encoded):  # type: ignore[index]
            encoded = None  # a body carries the key of its first destination only: the adapter keys the rest
        if encoded is not None and verify_fast:
            encoded = _verified(encoded, record, translate, crosswalk, ctx.log)
        outgoing: list[Outgoing]
        if encoded is not None:
            outgoing = [
                Emit(topic_prefix + DESTINATIONS[body.model][0].topic, key, body)  # type: ignore[index]
                for key, body in encoded
            ]
        else:
            outgoing = []
            for translated in translate(record):
                canonical = relocate(translated, crosswalk)
                for destination in destinations_of(canonical):
                    outgoing.append(
                        Emit(topic_prefix + destination.topic, destination.key(canonical), canonical)
                    )
        ctx.log.info("translated", system=record.system, entity=record.entity, events=len(outgoing))
        if record.provider_event_id:
            outgoing.append(StatePut(SEEN_STORE, dedupe_key, record.received_at.isoformat()))
        return outgoing

    return handle


def _verified(
    encoded: Encoded, record: IngressRecord, translate: Translate, crosswalk: Mapping[str, str], log: Any
) -> Encoded | None:
    """``encoded`` if the adapter's events encode to the same keys and bodies, else ``None``."""
    try:
        events: list[AvroRecord] = [relocate(e, crosswalk) for e in translate(record)]
    except TranslationError as error:
        log.error("fast path translated a payload the adapter rejects", reason=str(error))
        return None
    expected = [(type(e), destination_of(e).key(e), reference_body(e)) for e in events]
    if expected == [(body.model, key, body.body) for key, body in encoded]:
        return encoded
    log.error(
        "fast path differs from the adapter; the adapter's events are emitted",
        system=record.system,
        entity=record.entity,
        provider_event_id=record.provider_event_id,
    )
    return None
