"""Deterministic identities of target documents: the same canonical input always yields the same ids.

* ``external_id`` — the target record's own key (NetSuite ``externalId``, upsert path ``eid:``): one
  per canonical entity, so every version of an order updates the same ERP record.
* ``idempotency_key`` — one per *document version*: (target document, entity, canonical event id).
  Canonical event ids are themselves deterministic (UUIDv5 of the source delivery), so a replay of
  the bus — or a re-delivery by the connector — carries the same key and the target drops it.
* ``document_number`` / ``numeric_reference`` — short forms for fields with vendor length limits
  (Business Central Code[20], SAP DOCNUM NUMC 16).
"""

from __future__ import annotations

import hashlib
import json
import uuid

__all__ = ["EGRESS_NAMESPACE", "document_number", "external_id", "idempotency_key", "numeric_reference"]

# Fixed forever: changing it changes every idempotency key (and re-sends everything on replay).
EGRESS_NAMESPACE = uuid.UUID("3b0c6f7e-2d4a-5e1b-8f9c-6a7d5e4c3b21")


def idempotency_key(document: str, entity_id: uuid.UUID | str, version: uuid.UUID | str) -> str:
    """UUIDv5 of (target document type, canonical entity id, version = the canonical event id)."""
    parts = [document, str(entity_id), str(version)]
    if not all(parts):
        raise ValueError(f"every part of an idempotency key must be non-empty: {parts}")
    return str(uuid.uuid5(EGRESS_NAMESPACE, json.dumps(parts, separators=(",", ":"))))


def external_id(kind: str, entity_id: uuid.UUID) -> str:
    """``esb-<kind>-<32 hex>``: letters, digits and hyphens only (NetSuite's external id alphabet)."""
    if not kind.replace("-", "").isalnum():
        raise ValueError(f"external id kind must be alphanumeric: {kind!r}")
    return f"esb-{kind}-{entity_id.hex}"


def document_number(entity_id: uuid.UUID, width: int = 20) -> str:
    """``ESB`` + upper-case hex of the canonical id, cut to ``width`` (BC Code[20], SAP CHAR35)."""
    if width < 12:
        raise ValueError("fewer than 12 characters would make collisions likely")
    return ("ESB" + entity_id.hex.upper())[:width]


def numeric_reference(seed: str, digits: int) -> str:
    """``digits`` decimal digits derived from ``seed`` (SHA-256), for numeric-only reference fields."""
    value = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:16], "big")
    return str(value % (10**digits)).zfill(digits)
