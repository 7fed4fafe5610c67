"""Why a canonical event has no valid target document: dead-lettered with the field and the reason."""

from __future__ import annotations

from bus.errors import DeadLetterError

__all__ = ["UntranslatableError"]


class UntranslatableError(DeadLetterError):
    """The event cannot become this target's document (missing master data, unsupported shape)."""

    def __init__(self, document: str, field: str, reason: str) -> None:
        super().__init__(f"{document}: {field}: {reason}")
        self.document = document
        self.field = field
        self.reason = reason
