"""EventMetadata for translated events, with deterministic event ids.

The event id is a UUIDv5 of the source entity, the event type and what identifies this delivery
(the provider's event id, else a digest of the bytes): translating the same ingress record twice —
a replay, a crash before commit — yields the same event id, which consumers deduplicate on.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime

from schemas.common.models import EventMetadata, SourceRef
from schemas.ids import CANONICAL_NAMESPACE
from services.translator.ingress import IngressRecord

__all__ = ["event_metadata"]


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
    event_id = uuid.uuid5(CANONICAL_NAMESPACE, json.dumps(identity, separators=(",", ":")))
    source = SourceRef(
        system=record.system,
        account=record.account,
        entity=entity,
        native_id=native_id,
        api_version=record.api_version,
    )
    return EventMetadata(
        event_id=event_id,
        event_type=event_type,
        occurred_at=occurred_at,
        ingested_at=record.received_at,
        source=source,
        provider_event_id=record.provider_event_id,
        correlation_id=str(event_id),
        causation_id=None,
    )
