"""The translator's handler: one ingress record in, its canonical events out, re-deliveries dropped.

Dedupe: the provider's event id (``esb-event-id``) is remembered in a TTL store. The gateway keys
records by account and native id, so every re-delivery of one event lands on the partition whose
store already holds its id. A record without an event id is translated every time; its events
still carry deterministic event ids, which downstream consumers deduplicate on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bus.service import Context, Emit, Event, Handler, Outgoing, StatePut
from services.translator.ingress import IngressRecord
from services.translator.locations import relocate
from services.translator.registry import Translate, adapter_for
from services.translator.routing import destination_of

__all__ = ["SEEN_STORE", "make_handler"]

SEEN_STORE = "seen-events"


def make_handler(
    routes: Mapping[tuple[str, str], Translate],
    topic_prefix: str = "",
    locations: Mapping[str, str] | None = None,
) -> Handler:
    crosswalk = dict(locations or {})

    def handle(event: Event[bytes], ctx: Context) -> Sequence[Outgoing]:
        record = IngressRecord.from_kafka(event.value, event.headers, event.topic.removeprefix(topic_prefix))
        dedupe_key = f"{record.system}/{record.account}/{record.provider_event_id}"
        if record.provider_event_id and dedupe_key in ctx.state(SEEN_STORE):
            ctx.log.info("duplicate delivery dropped", provider_event_id=record.provider_event_id)
            return []
        translate = adapter_for(record.system, record.entity, routes)
        outgoing: list[Outgoing] = []
        for translated in translate(record):
            canonical = relocate(translated, crosswalk)
            destination = destination_of(canonical)
            outgoing.append(Emit(topic_prefix + destination.topic, destination.key(canonical), canonical))
        ctx.log.info("translated", system=record.system, entity=record.entity, events=len(outgoing))
        if record.provider_event_id:
            outgoing.append(StatePut(SEEN_STORE, dedupe_key, record.received_at.isoformat()))
        return outgoing

    return handle
