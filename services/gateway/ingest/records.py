"""Turn one file into ingress records: X12 -> one per transaction set, CSV -> one per chunk."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from services.gateway.headers import ingress_headers
from services.gateway.ingest.csv_feed import chunk_csv
from services.gateway.ingest.x12 import looks_like_x12, split_interchange
from services.gateway.redaction import redact_text
from services.gateway.topics import ingress_topic

__all__ = ["IngressRecord", "records_for_file"]


@dataclass(frozen=True, slots=True)
class IngressRecord:
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def _x12_records(
    path: Path, data: bytes, system: str, prefix: str, received_at: float
) -> list[IngressRecord]:
    records = []
    for tx in split_interchange(data):
        redacted = redact_text(tx.raw)
        extra = {
            "esb-file-name": path.name,
            "x12-set-id": tx.set_id,
            "x12-isa": tx.isa.decode("latin-1"),
            "x12-gs": tx.gs.decode("latin-1"),
            "x12-element-separator": tx.delimiters.element.decode("latin-1"),
            "x12-component-separator": tx.delimiters.component.decode("latin-1"),
            "x12-segment-terminator": tx.delimiters.segment.decode("latin-1"),
        }
        headers = ingress_headers(
            system=system,
            account=tx.sender_id,
            event_id=tx.event_id,
            event_topic=tx.set_id,
            received_at=received_at,
            content_type="application/edi-x12",
            trace_context={},
            redactions=redacted.count,
            extra=extra,
        )
        topic = ingress_topic(prefix, system, tx.set_id)
        records.append(IngressRecord(topic, tx.event_id.encode("utf-8"), redacted.body, headers))
    return records


def _csv_records(
    path: Path, data: bytes, system: str, entity: str, prefix: str, received_at: float, max_bytes: int
) -> list[IngressRecord]:
    # The content hash makes a re-ingested identical file carry the same event ids (dropped downstream).
    digest = hashlib.sha256(data).hexdigest()[:32]
    chunks = chunk_csv(data, max_bytes)
    records = []
    for index, chunk in enumerate(chunks):
        redacted = redact_text(chunk)
        event_id = f"{digest}:{index}"
        headers = ingress_headers(
            system=system,
            account=system,
            event_id=event_id,
            event_topic=entity,
            received_at=received_at,
            content_type="text/csv",
            trace_context={},
            redactions=redacted.count,
            extra={"esb-file-name": path.name, "esb-chunk": f"{index + 1}/{len(chunks)}"},
        )
        topic = ingress_topic(prefix, system, entity)
        records.append(IngressRecord(topic, event_id.encode("utf-8"), redacted.body, headers))
    return records


def records_for_file(
    path: Path,
    data: bytes,
    *,
    system: str,
    entity: str,
    prefix: str,
    received_at: float,
    max_bytes: int,
) -> list[IngressRecord]:
    """X12 is recognised by its ISA header, whatever the file is called; anything else is CSV."""
    if looks_like_x12(data):
        return _x12_records(path, data, system, prefix, received_at)
    return _csv_records(path, data, system, entity, prefix, received_at, max_bytes)
