"""An ingress record as the adapters see it: the native bytes and what the headers say about them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from schemas.ingress import IngressHeader
from services.translator.errors import TranslationError

__all__ = ["IngressRecord"]

# The header names as plain strings: a StrEnum member's ``.value`` is a descriptor call, and
# from_kafka reads nine headers per record.
_SOURCE_SYSTEM: Final = IngressHeader.SOURCE_SYSTEM.value
_ENTITY: Final = IngressHeader.ENTITY.value
_ACCOUNT: Final = IngressHeader.ACCOUNT.value
_RECEIVED_AT: Final = IngressHeader.RECEIVED_AT.value
_PROVIDER_EVENT_ID: Final = IngressHeader.PROVIDER_EVENT_ID.value
_PROVIDER_TOPIC: Final = IngressHeader.PROVIDER_TOPIC.value
_API_VERSION: Final = IngressHeader.API_VERSION.value
_CONTENT_TYPE: Final = IngressHeader.CONTENT_TYPE.value
_SHOP_CURRENCY: Final = IngressHeader.SHOP_CURRENCY.value


def _text(value: bytes | None) -> str | None:
    """A header's value as text; absent or empty is None."""
    return value.decode("utf-8", errors="replace") if value else None


@dataclass(frozen=True, slots=True)
class IngressRecord:
    raw: bytes
    system: str
    entity: str
    account: str
    received_at: datetime
    provider_event_id: str | None = None
    provider_topic: str | None = None
    api_version: str | None = None
    content_type: str | None = None
    shop_currency: str | None = None
    """the account's currency, from the ingress header, for payloads that do not state it"""

    @classmethod
    def from_kafka(cls, raw: bytes, headers: Mapping[str, bytes], topic: str) -> IngressRecord:
        """Build from an ``ingress.<system>.<entity>`` record; the topic names system and entity
        when the headers do not (a producer that only wrote bytes)."""
        get = headers.get
        system = _text(get(_SOURCE_SYSTEM))
        entity = _text(get(_ENTITY))
        if system is None or entity is None:  # the topic is only consulted when a header is missing
            parts = topic.split(".")
            topic_system, topic_entity = (parts[-2], parts[-1]) if len(parts) >= 3 else ("", "")
            system = system or topic_system
            entity = entity or topic_entity
        received = _text(get(_RECEIVED_AT))
        try:
            received_at = datetime.fromisoformat(received) if received else datetime.now(UTC)
        except ValueError as error:
            raise TranslationError(f"header {IngressHeader.RECEIVED_AT}", "ISO-8601", received) from error
        if received_at.tzinfo is None:
            received_at = received_at.replace(tzinfo=UTC)
        return cls(
            raw,
            system,
            entity,
            _text(get(_ACCOUNT)) or "default",
            received_at.astimezone(UTC),
            _text(get(_PROVIDER_EVENT_ID)),
            _text(get(_PROVIDER_TOPIC)),
            _text(get(_API_VERSION)),
            _text(get(_CONTENT_TYPE)),
            _text(get(_SHOP_CURRENCY)),
        )
