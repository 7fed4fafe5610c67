"""An ingress record as the adapters see it: the native bytes and what the headers say about them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from schemas.ingress import IngressHeader
from services.translator.errors import TranslationError

__all__ = ["IngressRecord"]


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

        def header(name: IngressHeader) -> str | None:
            value = headers.get(name.value)
            return value.decode("utf-8", errors="replace") if value else None

        parts = topic.split(".")
        topic_system, topic_entity = (parts[-2], parts[-1]) if len(parts) >= 3 else ("", "")
        received = header(IngressHeader.RECEIVED_AT)
        try:
            received_at = datetime.fromisoformat(received) if received else datetime.now(UTC)
        except ValueError as error:
            raise TranslationError(f"header {IngressHeader.RECEIVED_AT}", "ISO-8601", received) from error
        if received_at.tzinfo is None:
            received_at = received_at.replace(tzinfo=UTC)
        return cls(
            raw=raw,
            system=header(IngressHeader.SOURCE_SYSTEM) or topic_system,
            entity=header(IngressHeader.ENTITY) or topic_entity,
            account=header(IngressHeader.ACCOUNT) or "default",
            received_at=received_at.astimezone(UTC),
            provider_event_id=header(IngressHeader.PROVIDER_EVENT_ID),
            provider_topic=header(IngressHeader.PROVIDER_TOPIC),
            api_version=header(IngressHeader.API_VERSION),
            content_type=header(IngressHeader.CONTENT_TYPE),
            shop_currency=header(IngressHeader.SHOP_CURRENCY),
        )
