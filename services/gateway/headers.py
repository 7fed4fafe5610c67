"""Kafka record headers of every ingress record (the contract the translator reads).

Names are lower-case; values are UTF-8. ``traceparent``/``tracestate`` are W3C trace context.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from schemas.ingress import IngressHeader

__all__ = [
    "CONTENT_TYPE",
    "EVENT_ID",
    "EVENT_TOPIC",
    "RECEIVED_AT",
    "REDACTIONS",
    "SOURCE_ACCOUNT",
    "SOURCE_SYSTEM",
    "ingress_headers",
    "iso_utc_ms",
]

# The names are the ingress contract shared with the translator (schemas.ingress).
SOURCE_SYSTEM = IngressHeader.SOURCE_SYSTEM.value
SOURCE_ACCOUNT = IngressHeader.ACCOUNT.value
EVENT_ID = IngressHeader.PROVIDER_EVENT_ID.value
EVENT_TOPIC = IngressHeader.PROVIDER_TOPIC.value
RECEIVED_AT = IngressHeader.RECEIVED_AT.value
CONTENT_TYPE = IngressHeader.CONTENT_TYPE.value
REDACTIONS = IngressHeader.REDACTIONS.value


def iso_utc_ms(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ingress_headers(
    *,
    system: str,
    account: str,
    event_id: str,
    event_topic: str,
    received_at: float,
    content_type: str | None,
    trace_context: Mapping[str, str],
    redactions: int,
    extra: Mapping[str, str] | None = None,
) -> list[tuple[str, bytes]]:
    values: dict[str, str] = {
        SOURCE_SYSTEM: system,
        SOURCE_ACCOUNT: account,
        EVENT_ID: event_id,
        EVENT_TOPIC: event_topic,
        RECEIVED_AT: iso_utc_ms(received_at),
    }
    if content_type:
        values[CONTENT_TYPE] = content_type
    if redactions:
        values[REDACTIONS] = str(redactions)
    values.update({k: v for k, v in trace_context.items() if k in ("traceparent", "tracestate")})
    values.update(extra or {})
    return [(name, value.encode("utf-8")) for name, value in values.items()]
