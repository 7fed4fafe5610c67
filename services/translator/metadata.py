"""EventMetadata for translated events, with deterministic event ids.

The event id is a UUIDv5 of the source entity, the event type and what identifies this delivery
(the provider's event id, else a digest of the bytes): translating the same ingress record twice —
a replay, a crash before commit — yields the same event id, which consumers deduplicate on.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from schemas.base import trusted, utc_millis
from schemas.common.models import EventMetadata, SourceRef
from schemas.ids import json_list, uuid5
from services.translator.ingress import IngressRecord

__all__ = ["event_metadata"]

_SOURCE = frozenset(SourceRef.model_fields)
_METADATA = frozenset(EventMetadata.model_fields)


def event_metadata(
    record: IngressRecord,
    *,
    event_type: str,
    entity: str,
    native_id: str,
    occurred_at: datetime,
    discriminator: str = "",
) -> EventMetadata:
    """Metadata for one canonical event built from ``record``.

    ``discriminator`` separates several events translated from one payload (e.g. one per refund).
    """
    delivery = record.provider_event_id or hashlib.sha256(record.raw).hexdigest()[:32]
    identity = [record.system, record.account, entity, native_id, event_type, delivery, discriminator]
    event_id = uuid5(json_list(identity))
    source: dict[str, Any] = {
        "system": record.system,
        "account": record.account,
        "entity": entity,
        "native_id": native_id,
        "api_version": record.api_version,
    }
    metadata: dict[str, Any] = {
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": occurred_at,
        "ingested_at": record.received_at,
        "source": source,
        "provider_event_id": record.provider_event_id,
        "correlation_id": str(event_id),
        "causation_id": None,
    }
    if not _plain(record, entity, native_id, event_type, occurred_at):
        metadata["source"] = SourceRef.model_validate(source)
        return EventMetadata.model_validate(metadata)
    # The usual values (strings, tz-aware instants): the records validation would make of them
    # (schemas.base.trusted), ~1 instead of ~5 µs.
    metadata["occurred_at"] = utc_millis(occurred_at)
    metadata["ingested_at"] = utc_millis(record.received_at)
    metadata["source"] = trusted(SourceRef, source, _SOURCE)
    return trusted(EventMetadata, metadata, _METADATA)


def _plain(
    record: IngressRecord, entity: str, native_id: str, event_type: str, occurred_at: datetime
) -> bool:
    """Strings where the models want strings (or ``None`` where they allow it), aware instants."""
    received_at = record.received_at
    return (
        type(record.system) is str
        and type(record.account) is str
        and type(entity) is str
        and type(native_id) is str
        and type(event_type) is str
        and (record.api_version is None or type(record.api_version) is str)
        and (record.provider_event_id is None or type(record.provider_event_id) is str)
        and type(occurred_at) is datetime
        and occurred_at.utcoffset() is not None
        and type(received_at) is datetime
        and received_at.utcoffset() is not None
    )
